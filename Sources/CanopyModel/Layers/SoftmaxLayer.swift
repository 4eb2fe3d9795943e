import CanopyCore

/// Softmax over the features of a flat `[features]` input, computed stably: `softmax`. Its outputs are positive
/// and sum to 1 per example (a mixing weight, an attention over features). Not for the end of a `cross_entropy`
/// head, whose loss applies its own softmax to logits. No parameters.
public struct SoftmaxLayer: Layer, Sendable {
    /// The softmax layer.
    public init() {}

    public static let syntax = [
        LayerSyntax(keyword: "softmax", summary: "e^x / Σ e^x over the features of a flat input",
                    make: { _ in .softmax }),
    ]

    public var keyword: String { "softmax" }
    public var description: String { "softmax" }
    public var hasParameters: Bool { false }

    public func check(input: [Int], at site: LayerSite) throws {
        guard input.count == 1 else {
            throw site.error("softmax needs a flat [features] input but gets \(LayerSite.text(input)); "
                                + "flatten it (or global_avgpool it) first")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        graph.softmax(x, label: label)
    }
}

extension LayerKind {
    /// `softmax`.
    public static var softmax: LayerKind { LayerKind(SoftmaxLayer()) }
}
