// Element-wise work on vectors of eight floats: kernels write their arithmetic once over ``Lanes`` and
// ``forEachLanes`` runs it on whole vectors, then once more on the last `count % 8` elements loaded into a
// zero-padded vector, so the body and the tail compute exactly the same thing (and the compiler emits packed
// instructions for the body).

/// The vector element-wise kernels work on.
typealias Lanes = SIMD8<Float>

/// Calls `body(i, rest)` for each vector of ``Lanes`` in `range`: `rest` is `Lanes.scalarCount`
/// for whole vectors and the number of elements left (1 … 7) for the last, partial one.
@inline(__always)
func forEachLanes(_ range: Range<Int>, _ body: (_ i: Int, _ rest: Int) -> Void) {
    let width = Lanes.scalarCount
    var i = range.lowerBound
    while i + width <= range.upperBound {
        body(i, width)
        i += width
    }
    if i < range.upperBound { body(i, range.upperBound - i) }
}

extension SIMD8 where Scalar == Float {
    /// Loads `rest` floats from `pointer` (all eight when `rest` is 8, an unaligned vector load), the other lanes 0.
    @inline(__always)
    init(_ pointer: UnsafePointer<Float>, _ rest: Int) {
        if rest == Self.scalarCount {
            self = UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
        } else {
            self.init()
            for lane in 0..<rest { self[lane] = pointer[lane] }
        }
    }

    @inline(__always)
    init(_ pointer: UnsafeMutablePointer<Float>, _ rest: Int) {
        self.init(UnsafePointer(pointer), rest)
    }

    /// Stores the first `rest` lanes to `pointer`.
    @inline(__always)
    func store(to pointer: UnsafeMutablePointer<Float>, _ rest: Int) {
        if rest == Self.scalarCount {
            UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
        } else {
            for lane in 0..<rest { pointer[lane] = self[lane] }
        }
    }
}
