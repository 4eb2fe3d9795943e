import CanopyCore

/// Reshapes `[c, h, w]` to `[c·h·w]` (row-major); a no-op on a flat input. Written `flatten`. No parameters.
public struct FlattenLayer: Layer, Sendable {
    /// The flatten layer.
    public init() {}

    public static let syntax = [
        LayerSyntax(keyword: "flatten", summary: "reshape [c, h, w] to [c·h·w], row-major; a no-op on a flat input",
                    make: { _ in .flatten }),
    ]

    public var keyword: String { "flatten" }
    public var description: String { "flatten" }
    public var hasParameters: Bool { false }

    public func check(input: [Int], at site: LayerSite) throws {}

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        try graph.flatten(x, label: label)
    }
}

extension LayerKind {
    /// `flatten`.
    public static var flatten: LayerKind { LayerKind(FlattenLayer()) }
}
