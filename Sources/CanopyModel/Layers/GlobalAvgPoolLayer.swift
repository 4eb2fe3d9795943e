import CanopyCore

/// Global average pooling, written `global_avgpool`: `[channels, height, width]` → `[channels]`, each channel the
/// mean of its plane. No parameters.
public struct GlobalAvgPoolLayer: Layer, Sendable {
    /// The global average pooling layer.
    public init() {}

    public static let syntax = [
        LayerSyntax(keyword: "global_avgpool", summary: "[c, h, w] → [c], the mean of each channel's plane",
                    make: { _ in .globalAvgPool }),
    ]

    public var keyword: String { "global_avgpool" }
    public var description: String { "global_avgpool" }
    public var hasParameters: Bool { false }

    public func check(input: [Int], at site: LayerSite) throws {
        guard input.count == 3 else {
            throw site.error("global_avgpool needs a [channels, height, width] input but gets \(LayerSite.text(input))")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        try graph.globalAvgPool(x, label: label)
    }
}

extension LayerKind {
    /// `global_avgpool`.
    public static var globalAvgPool: LayerKind { LayerKind(GlobalAvgPoolLayer()) }
}
