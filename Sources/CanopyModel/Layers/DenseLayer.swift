import CanopyCore

/// A fully connected layer `y = W·x + b` on a flat input: `dense: 64` or `dense: {units: 64}`; in a graph,
/// `{name: h1, op: dense, units: 64}`.
///
/// Parameters: `weight` [units, in] (He-uniform, fan-in `in`) and `bias` [units] (zeros).
public struct DenseLayer: Layer {
    /// The output width (1...``ModelLimits/maxDimension``).
    public var units: Int

    /// A dense layer of `units` outputs.
    public init(units: Int) { self.units = units }

    public static let syntax = [
        LayerSyntax(keyword: "dense", settings: [.integer("units")], shorthand: "units", example: "64",
                    summary: "fully connected y = W·x + b on a flat input; W is [units, in]",
                    make: { .dense(units: $0.int("units")) }),
    ]

    public var keyword: String { "dense" }
    public var description: String { "dense \(units)" }
    public var hasParameters: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        try site.checkSize(units, "units")
        guard input.count == 1 else {
            throw site.error("dense needs a flat input but gets \(LayerSite.text(input)); add 'flatten' before it")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] {
        [LayerParameter("weight", shape: [units, input[0]], initializer: .heUniform(fanIn: input[0])),
         LayerParameter("bias", shape: [units], initializer: .zeros)]
    }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        try graph.biasAdd(try graph.matmul(x, parameters[0], transposeB: true, label: label), parameters[1], label: label)
    }
}

extension LayerKind {
    /// `dense: units`.
    public static func dense(units: Int) -> LayerKind { LayerKind(DenseLayer(units: units)) }
}
