/// Values a plan leaves end to end in one device buffer after every step, so that a caller copies or reads all
/// of them in one call (a step's losses, labelled counts and outputs: one copy into a record instead of three per
/// task, each a kernel launch; see ``Executor/init(graph:backend:parameters:outputs:mode:gradientArena:gradientValues:gathered:fusing:)``).
///
/// Value `i` lies at `offsets[i] ..< offsets[i] + counts[i]` of ``buffer``; the offsets are multiples of the
/// backend's view alignment (``ArenaLayout``), and the gaps between values are zero and never written. Where the
/// backend makes views, a value is computed straight into its place (its buffer is a view of ``buffer``);
/// otherwise, and for a value that cannot be placed (a parameter, an input, a value placed elsewhere), the plan
/// ends with a copy of it into its place.
public struct GatheredValues {
    /// The values, in the order asked for.
    public let values: [Value]
    /// Where each value starts in ``buffer``, and its element count.
    public let offsets: [Int], counts: [Int]
    /// The buffer, ``count`` elements.
    public let buffer: DeviceBuffer
    /// The extent of the values in ``buffer`` (the last one's end).
    public let count: Int
    /// How many of the values the plan copies into place after computing them (the rest are computed in place).
    public internal(set) var copiedCount = 0

    /// Lays `values` (of the given element counts, each at least 1) out on `backend`.
    init(values: [Value], counts: [Int], backend: Backend) throws {
        let names = values.indices.map(String.init)
        let layout = ArenaLayout(names: names, counts: Dictionary(uniqueKeysWithValues: zip(names, counts)),
                                 alignment: backend.viewAlignment)
        self.values = values
        self.counts = counts
        offsets = names.map { layout.offsets[$0]! }
        count = layout.count
        buffer = try backend.makeBuffer(count: layout.count)
    }

    /// The copy that puts value `index`, held in `source`, into its place.
    func copy(_ index: Int, from source: DeviceBuffer) -> Kernel {
        .copyBlock(x: source, y: buffer, rows: 1, cols: counts[index], xStride: counts[index], xOffset: 0,
                   yStride: counts[index], yOffset: offsets[index])
    }
}
