import CanopyCore

/// Inverted dropout with drop probability `p` in [0, 1) while training, identity otherwise: `dropout: 0.1`; in a
/// graph, `{name: d, op: dropout, p: 0.1}`. The mask is drawn from the run's seed and the node's index. No
/// parameters.
public struct DropoutLayer: Layer, Sendable {
    /// The drop probability.
    public var probability: Float

    /// A dropout layer.
    public init(probability: Float) { self.probability = probability }

    public static let syntax = [
        LayerSyntax(keyword: "dropout", settings: [.number("p")], shorthand: "p", takesMapping: false,
                    example: "0.1", summary: "inverted dropout with drop probability p in [0, 1) while training",
                    make: { .dropout($0.float("p")) }),
    ]

    public var keyword: String { "dropout" }
    public var description: String { "dropout \(probability)" }
    public var hasParameters: Bool { false }
    public var keepsFeatures: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        guard probability.isFinite && probability >= 0 && probability < 1 else {
            throw site.error(setting: "p", "dropout probability must be in [0, 1), got \(probability)")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        try graph.dropout(x, probability: probability, label: label)
    }
}

extension LayerKind {
    /// `dropout: p`.
    public static func dropout(_ probability: Float) -> LayerKind { LayerKind(DropoutLayer(probability: probability)) }
}
