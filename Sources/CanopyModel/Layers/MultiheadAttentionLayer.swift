import CanopyCore

/// Multi-head scaled dot-product self-attention (Vaswani et al., 2017; PyTorch's `nn.MultiheadAttention` with
/// query = key = value): `[length, features]` → `[length, dim]`. Written
/// `{multihead_attention: {heads: 4, dim: 32, causal: false, bias: true}}`.
///
/// With x the input, `Q = x·Wqᵀ + bq`, `K = x·Wkᵀ + bk`, `V = x·Wvᵀ + bv` ([length, dim] each), split into `heads`
/// heads of `dim / heads` features; per head `softmax(Q·Kᵀ / √(dim/heads)) · V`, where with `causal: true`
/// position i attends only to positions j ≤ i; the heads are joined back to [length, dim] and projected,
/// `y = heads·Woᵀ + bo`. dim must be a multiple of heads.
///
/// Parameters, in creation order: `query.weight` [dim, features], `query.bias` [dim], `key.weight`, `key.bias`,
/// `value.weight`, `value.bias` (the same shapes), `output.weight` [dim, dim], `output.bias` [dim] (PyTorch keeps
/// the three input projections as one `in_proj_weight` [3·dim, features]: these are its three row blocks). Weights
/// start Glorot-uniform and biases zero, as PyTorch starts its projections; `bias: false` drops every bias.
public struct MultiheadAttentionLayer: Layer, Sendable {
    /// The number of heads (a divisor of ``dim``).
    public var heads: Int
    /// The width of the queries, keys, values and output.
    public var dim: Int
    /// Whether position i attends only to positions j ≤ i.
    public var causal: Bool
    /// Whether the four projections add biases.
    public var bias: Bool

    /// Self-attention with `heads` heads of total width `dim`.
    public init(heads: Int, dim: Int, causal: Bool = false, bias: Bool = true) {
        self.heads = heads; self.dim = dim; self.causal = causal; self.bias = bias
    }

    public static let syntax = [
        LayerSyntax(keyword: "multihead_attention",
                    settings: [.integer("heads"), .integer("dim"), .boolean("causal", default: false),
                               .boolean("bias", default: true)],
                    example: "{heads: 4, dim: 32}",
                    summary: "self-attention [length, features] → [length, dim]: heads of softmax(QKᵀ/√(dim/heads))V, projected",
                    make: { .multiheadAttention(heads: $0.int("heads"), dim: $0.int("dim"), causal: $0.bool("causal"),
                                                bias: $0.bool("bias")) }),
    ]

    public var keyword: String { "multihead_attention" }
    public var description: String {
        "multihead_attention \(heads)×\(dim / max(heads, 1))" + (causal ? " causal" : "") + (bias ? "" : " no bias")
    }
    public var hasParameters: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        try site.checkSize(heads, "heads")
        try site.checkSize(dim, "dim")
        guard dim % heads == 0 else {
            throw site.error(setting: "heads", "heads \(heads) must divide dim \(dim)")
        }
        guard input.count == 2 else {
            throw site.error("multihead_attention needs a [length, features] input but gets \(LayerSite.text(input)); "
                + "an embedding gives one")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] {
        let features = input[1]
        func projection(_ name: String, inputs: Int) -> [LayerParameter] {
            [LayerParameter("\(name).weight", shape: [dim, inputs], initializer: .glorotUniform(fanIn: inputs, fanOut: dim))]
                + (bias ? [LayerParameter("\(name).bias", shape: [dim], initializer: .zeros)] : [])
        }
        return projection("query", inputs: features) + projection("key", inputs: features)
            + projection("value", inputs: features) + projection("output", inputs: dim)
    }

    public func append(to x: Value, parameters: [Value], label: String, in g: Graph) throws -> Value {
        let s = g.shape(of: x), (batch, length, features) = (s[0], s[1], s[2])
        let width = dim / heads, perProjection = bias ? 2 : 1
        let rows = try g.reshape(x, to: [batch * length, features], label: label)
        func project(_ input: Value, _ index: Int) throws -> Value {
            let product = try g.matmul(input, parameters[index * perProjection], transposeB: true, label: label)
            return bias ? try g.biasAdd(product, parameters[index * perProjection + 1], label: label) : product
        }
        // [N·L, D] → [N, L, H, d] → [N, H, L, d] → [N·H, L, d]
        func split(_ value: Value) throws -> Value {
            let swapped = try g.swapAxes(try g.reshape(value, to: [batch, length, heads, width], label: label), axis: 1,
                                         label: label)
            return try g.reshape(swapped, to: [batch * heads, length, width], label: label)
        }
        let query = try split(g.scale(try project(rows, 0), by: 1 / Float(width).squareRoot(), label: label))
        let key = try split(try project(rows, 1)), value = try split(try project(rows, 2))
        var scores = try g.batchedMatmul(query, key, transposeB: true, label: label)
        if causal { scores = try g.causalMask(scores, label: label) }
        let context = try g.batchedMatmul(g.softmax(scores, label: label), value, label: label)
        // [N·H, L, d] → [N, H, L, d] → [N, L, H, d] → [N·L, D]
        let merged = try g.swapAxes(try g.reshape(context, to: [batch, heads, length, width], label: label), axis: 1,
                                    label: label)
        let output = try project(try g.reshape(merged, to: [batch * length, dim], label: label), 3)
        return try g.reshape(output, to: [batch, length, dim], label: label)
    }
}

extension LayerKind {
    /// `{multihead_attention: {heads, dim, causal, bias}}`.
    public static func multiheadAttention(heads: Int, dim: Int, causal: Bool = false, bias: Bool = true) -> LayerKind {
        LayerKind(MultiheadAttentionLayer(heads: heads, dim: dim, causal: causal, bias: bias))
    }
}
