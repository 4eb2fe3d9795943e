import CanopyCore

/// Layer normalization over the features of a flat input, PyTorch's `nn.LayerNorm(features, eps)`:
/// `y = (x − mean) / sqrt(var + eps) · gamma + beta`, with the biased variance of each example's features.
/// Written `layernorm` (eps 1e-5) or `{layernorm: {eps: 1e-6}}`; in a graph, `{name: n, op: layernorm}`.
///
/// Parameters: `weight` (gamma) [features], ones, and `bias` (beta) [features], zeros, as PyTorch names and
/// starts them.
public struct LayerNormLayer: Layer, Sendable {
    /// Added to the variance before the square root (finite, > 0).
    public var eps: Float

    /// A layer normalization with `eps` added to the variance.
    public init(eps: Float = 1e-5) { self.eps = eps }

    public static let syntax = [
        LayerSyntax(keyword: "layernorm", settings: [.number("eps", default: .number(1e-5))], example: "{eps: 1e-5}",
                    summary: "layer normalization of a flat input's features, (x − mean)/sqrt(var + eps)·gamma + beta",
                    make: { .layerNorm(eps: $0.float("eps")) }),
    ]

    public var keyword: String { "layernorm" }
    public var description: String { eps == 1e-5 ? "layernorm" : "layernorm eps \(eps)" }
    public var hasParameters: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        guard eps.isFinite && eps > 0 else {
            throw site.error(setting: "eps", "layernorm eps must be a positive number, got \(eps)")
        }
        guard input.count == 1 else {
            throw site.error("layernorm needs a flat input but gets \(LayerSite.text(input)); add 'flatten' before it")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] {
        [LayerParameter("weight", shape: [input[0]], initializer: .constant(1)),
         LayerParameter("bias", shape: [input[0]], initializer: .zeros)]
    }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        try graph.biasAdd(try graph.layerNorm(x, gamma: parameters[0], eps: eps, label: label), parameters[1], label: label)
    }
}

extension LayerKind {
    /// `layernorm` / `{layernorm: {eps}}`.
    public static func layerNorm(eps: Float = 1e-5) -> LayerKind { LayerKind(LayerNormLayer(eps: eps)) }
}
