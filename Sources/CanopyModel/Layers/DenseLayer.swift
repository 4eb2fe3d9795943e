import CanopyCore

/// A fully connected layer `y = W·x + b` on a flat input: `dense: 64` or `dense: {units: 64, init: pytorch,
/// bias: false}`; in a graph, `{name: h1, op: dense, units: 64}`.
///
/// Parameters: `weight` [units, in] and, unless `bias: false`, `bias` [units], started as ``WeightInit`` says
/// (by default He-uniform with fan-in `in`, and zeros). Without a bias the layer is `y = W·x`.
public struct DenseLayer: Layer, Sendable {
    /// The output width (1...``ModelLimits/maxDimension``).
    public var units: Int
    /// How the weight and bias start.
    public var initializer: WeightInit
    /// Whether the layer adds a bias.
    public var bias: Bool

    /// A dense layer of `units` outputs.
    public init(units: Int, initializer: WeightInit = .he, bias: Bool = true) {
        self.units = units; self.initializer = initializer; self.bias = bias
    }

    public static let syntax = [
        LayerSyntax(keyword: "dense",
                    settings: [.integer("units"), .word("init", among: WeightInit.words, default: "he"),
                               .boolean("bias", default: true)],
                    shorthand: "units", example: "64",
                    summary: "fully connected y = W·x + b on a flat input; W is [units, in]",
                    make: { .dense(units: $0.int("units"), initializer: WeightInit(rawValue: $0.word("init"))!,
                                   bias: $0.bool("bias")) }),
    ]

    public var keyword: String { "dense" }
    public var description: String { "dense \(units)" + initializer.describe(bias: bias) }
    public var hasParameters: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        try site.checkSize(units, "units")
        guard input.count == 1 else {
            throw site.error("dense needs a flat input but gets \(LayerSite.text(input)); add 'flatten' before it")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] {
        initializer.parameters(weight: [units, input[0]], bias: [units], fanIn: input[0], fanOut: units, bias: bias)
    }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        let product = try graph.matmul(x, parameters[0], transposeB: true, label: label)
        return bias ? try graph.biasAdd(product, parameters[1], label: label) : product
    }
}

extension LayerKind {
    /// `dense: {units, init, bias}`.
    public static func dense(units: Int, initializer: WeightInit = .he, bias: Bool = true) -> LayerKind {
        LayerKind(DenseLayer(units: units, initializer: initializer, bias: bias))
    }
}
