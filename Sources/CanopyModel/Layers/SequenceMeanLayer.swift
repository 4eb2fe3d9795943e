import CanopyCore

/// The mean over a sequence's positions, written `sequence_mean`: `[length, features]` → `[features]`, so a
/// classification head (dense layers need a flat input) can follow a sequence layer. Every position counts,
/// padding included. No parameters.
///
/// Built from graph ops: swap the two axes to `[features, length]` and take each feature's mean (global average
/// pooling of a `[features, length, 1]` view).
public struct SequenceMeanLayer: Layer, Sendable {
    /// The sequence mean layer.
    public init() {}

    public static let syntax = [
        LayerSyntax(keyword: "sequence_mean", summary: "[length, features] → [features], the mean over positions",
                    make: { _ in .sequenceMean }),
    ]

    public var keyword: String { "sequence_mean" }
    public var description: String { "sequence_mean" }
    public var hasParameters: Bool { false }

    public func check(input: [Int], at site: LayerSite) throws {
        guard input.count == 2 else {
            throw site.error("sequence_mean needs a [length, features] input but gets \(LayerSite.text(input))")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        let s = graph.shape(of: x)
        let features = try graph.swapAxes(x, axis: 1, label: label)
        return try graph.globalAvgPool(try graph.reshape(features, to: [s[0], s[2], s[1], 1], label: label), label: label)
    }
}

extension LayerKind {
    /// `sequence_mean`.
    public static var sequenceMean: LayerKind { LayerKind(SequenceMeanLayer()) }
}
