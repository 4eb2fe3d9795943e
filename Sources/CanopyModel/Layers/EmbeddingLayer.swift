import CanopyCore

/// A learned embedding table, PyTorch's `nn.Embedding(vocabulary, dim, padding_idx:)`: an input of `[length]`
/// token ids (whole numbers in [0, vocabulary) stored as floats) → `[length, dim]`, each id's row of the table.
/// Written `{embedding: {vocabulary: 1000, dim: 32}}`, with optional `padding: 0` (the id whose row is zero and
/// gets no gradient; −1, the default, for none) and `positions: <length>` (learned positional embeddings added
/// to each position, so later layers such as attention can see order).
///
/// Parameters: `weight` [vocabulary, dim], drawn from U(−√3, √3) — variance 1, like PyTorch's N(0, 1) start,
/// from a uniform draw as every Canopy initializer is — with the padding row zero; and with `positions: L`,
/// `position` [L, dim] drawn the same way.
///
/// An id outside [0, vocabulary), or not a whole number, is refused by training's data check before the first
/// step; should one reach the kernels anyway they treat it like the padding id (a zero row, no gradient) and
/// never read outside the table.
public struct EmbeddingLayer: Layer, Sendable {
    /// The number of ids (rows of the table).
    public var vocabulary: Int
    /// The width of each embedding.
    public var dim: Int
    /// The id whose row is zero and gets no gradient, or nil.
    public var padding: Int?
    /// The sequence length of the learned positional embeddings, or nil for none.
    public var positions: Int?

    /// An embedding of `vocabulary` ids into `dim` features.
    public init(vocabulary: Int, dim: Int, padding: Int? = nil, positions: Int? = nil) {
        self.vocabulary = vocabulary; self.dim = dim; self.padding = padding; self.positions = positions
    }

    public static let syntax = [
        LayerSyntax(keyword: "embedding",
                    settings: [.integer("vocabulary"), .integer("dim"), .integer("padding", default: .integer(-1)),
                               .integer("positions", default: .integer(0))],
                    example: "{vocabulary: 1000, dim: 32, padding: 0}",
                    summary: "[length] token ids → [length, dim], each id's learned row (padding −1: none; positions L: add learned positional embeddings)",
                    make: { settings in
                        let padding = settings.int("padding"), positions = settings.int("positions")
                        return .embedding(vocabulary: settings.int("vocabulary"), dim: settings.int("dim"),
                                          padding: padding == -1 ? nil : padding, positions: positions == 0 ? nil : positions)
                    }),
    ]

    public var keyword: String { "embedding" }
    public var description: String {
        "embedding \(vocabulary)×\(dim)" + (padding.map { " padding \($0)" } ?? "") + (positions.map { " positions \($0)" } ?? "")
    }
    public var hasParameters: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        try site.checkSize(vocabulary, "vocabulary")
        try site.checkSize(dim, "dim")
        if let padding, !(0..<vocabulary).contains(padding) {
            throw site.error(setting: "padding", "padding must be an id in 0..<\(vocabulary) (or −1 for none), got \(padding)")
        }
        guard input.count == 1 else {
            throw site.error("embedding needs a [length] input of token ids but gets \(LayerSite.text(input))")
        }
        if let positions {
            try site.checkSize(positions, "positions")
            guard positions == input[0] else {
                throw site.error(setting: "positions", "positions must equal the input's length \(input[0]), got \(positions)")
            }
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] {
        let bound = Float(3).squareRoot()
        let table: ParameterInit = padding.map { .uniformWithZeroRow(bound: bound, zeroRow: $0, rowLength: dim) }
            ?? .uniform(bound: bound)
        return [LayerParameter("weight", shape: [vocabulary, dim], initializer: table)]
            + (positions.map { [LayerParameter("position", shape: [$0, dim], initializer: .uniform(bound: bound))] } ?? [])
    }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        let y = try graph.embedding(x, weight: parameters[0], padding: padding, label: label)
        guard positions != nil else { return y }
        let shape = graph.shape(of: y), features = shape[1] * shape[2]
        let flat = try graph.reshape(y, to: [shape[0], features], label: label)
        let position = try graph.reshape(parameters[1], to: [features], label: label)
        return try graph.reshape(try graph.biasAdd(flat, position, label: label), to: shape, label: label)
    }
}

extension LayerKind {
    /// `{embedding: {vocabulary, dim, padding, positions}}`.
    public static func embedding(vocabulary: Int, dim: Int, padding: Int? = nil, positions: Int? = nil) -> LayerKind {
        LayerKind(EmbeddingLayer(vocabulary: vocabulary, dim: dim, padding: padding, positions: positions))
    }
}
