import CanopyCore

/// A residual block, `y = x + f(x)` with `f` the listed layers: `- residual: [{dense: 64}, relu]` in any layer list
/// (`shared:`, `head:`, an expert, a column or a tower). The layers must give back their input's shape (an error
/// placed at the block names both shapes otherwise).
///
/// The inner layers are ordinary layers of a list nested at the block: their key paths are
/// `shared[2].residual[0]`, ..., their summary rows follow the block's own row, and their parameters are named
/// `<block>.<i>.<suffix>` — `shared.2.0.weight` for the first layer inside a residual written at `shared[2]`,
/// `tasks.digit.head.1.0.bias` inside a head. Blocks may nest. No parameters of its own.
///
/// The model builder appends the inner layers as a list (checked, counted, named and summarised one by one) and
/// then the sum, so the ``Layer`` methods below only serve a block used outside a list, which no model file can
/// write (graph nodes have no `residual` op).
public struct ResidualLayer: Layer, Sendable {
    /// The layers of `f`, with their key paths (`shared[2].residual[0]`, ...) and places.
    public var layers: [LayerSpec]

    /// A residual block around `layers`.
    public init(layers: [LayerSpec]) { self.layers = layers }

    /// The model-file word: it takes a list of layers rather than settings, so the decoder reads it itself and the
    /// ``LayerRegistry`` does not list it.
    public static let keyword = "residual"

    public static let syntax = [
        LayerSyntax(keyword: keyword, example: "[{dense: 64}, relu]", summary: "x + f(x), f the listed layers",
                    make: { _ in preconditionFailure("residual blocks are read as lists of layers") }),
    ]

    public var keyword: String { Self.keyword }
    public var description: String { "residual x + f(x), \(layers.count) layer\(layers.count == 1 ? "" : "s")" }
    public var hasParameters: Bool { layers.contains { $0.kind.hasParameters } }

    public func check(input: [Int], at site: LayerSite) throws {
        throw site.error("a residual block can only be written in a layer list")
    }

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        throw GraphError("a residual block can only be written in a layer list")
    }
}

extension LayerKind {
    /// `residual: [layers]`: `x + f(x)` with `f` the layers (their key paths nested at the block's).
    public static func residual(_ layers: [LayerSpec]) -> LayerKind { LayerKind(ResidualLayer(layers: layers)) }
}
