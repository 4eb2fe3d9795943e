import CanopyCore

/// The same elements, row-major, viewed with another per-example shape: `reshape: [4, 8, 8]` (or
/// `reshape: {shape: [4, 8, 8]}`), one to three sizes whose product is the input's element count. A view: nothing
/// is copied. No parameters.
public struct ReshapeLayer: Layer, Sendable {
    /// The per-example output shape.
    public var shape: [Int]

    /// A reshape layer.
    public init(shape: [Int]) { self.shape = shape }

    public static let syntax = [
        LayerSyntax(keyword: "reshape", settings: [.integers("shape")], shorthand: "shape", example: "[4, 8, 8]",
                    summary: "the same elements viewed as another shape of 1 to 3 sizes (the element count must "
                        + "match); no copy",
                    make: { .reshape($0.ints("shape")) }),
    ]

    public var keyword: String { "reshape" }
    public var description: String { "reshape \(LayerSite.text(shape))" }
    public var hasParameters: Bool { false }

    public func check(input: [Int], at site: LayerSite) throws {
        guard (1...3).contains(shape.count) else {
            throw site.error(setting: "shape", "reshape takes 1 to 3 sizes, such as [4, 8, 8], got \(shape.count)")
        }
        for size in shape { try site.checkSize(size, "shape") }
        let (have, want) = (Sizes.product(input), Sizes.product(shape))
        guard have == want else {
            throw site.error(setting: "shape", "reshape to \(LayerSite.text(shape)) needs \(want) elements, but its "
                                + "input \(LayerSite.text(input)) has \(have)")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        try graph.reshape(x, to: [graph.shape(of: x)[0]] + shape, label: label)
    }
}

extension LayerKind {
    /// `reshape: [sizes]`.
    public static func reshape(_ shape: [Int]) -> LayerKind { LayerKind(ReshapeLayer(shape: shape)) }
}
