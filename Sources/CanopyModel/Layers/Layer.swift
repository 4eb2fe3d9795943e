import CanopyCore

/// One type of layer, defined once: how a model file writes it, what it checks, the parameters it owns and the
/// graph nodes it appends.
///
/// The decoder reads every layer from its type's ``syntax`` (the `shared:` and `head:` list form and the
/// `graph:` node form alike); the graph builder checks it with ``check(input:at:)``, creates the tensors
/// ``parameters(input:)`` lists (named `<where>.<suffix>`, counted against ``ModelLimits`` first) and calls
/// ``append(to:parameters:label:in:)``; `canopy check`'s summary is read off the graph so built. The output shape
/// comes from the graph op's own shape rule, so no formula is written twice. To add a layer, write one file with a
/// conforming type, a `LayerKind` factory, and list the type in ``LayerRegistry/types``.
///
/// ```swift
/// public struct DenseLayer: Layer {
///     public var units: Int
///     public static let syntax = [LayerSyntax(keyword: "dense", settings: [.integer("units")], shorthand: "units", ...)]
///     public func check(input: [Int], at site: LayerSite) throws { try site.checkSize(units, "units") ... }
///     public func parameters(input: [Int]) -> [LayerParameter] { [weight [units, in], bias [units]] }
///     public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value { ... }
/// }
/// ```
public protocol Layer: Hashable, Sendable, CustomStringConvertible {
    /// How a model file writes layers of this type: one entry per word (most types have one; the activations
    /// have one per function). The registry lists every type's words.
    static var syntax: [LayerSyntax] { get }
    /// The word a model file uses for this layer (`dense`, `relu`, ...); one of the type's ``syntax`` words.
    var keyword: String { get }
    /// A short human description for the summary: `dense 64`, `conv2d 16×3×3 s1 p1`, `relu`.
    var description: String { get }
    /// Whether the layer owns learnable parameters (whatever its input); cross-stitch's default units go after
    /// an activation that follows such a layer.
    var hasParameters: Bool { get }
    /// Whether the layer is an element-wise nonlinearity (`relu`, `gelu`, ...). Default false.
    var isActivation: Bool { get }
    /// Whether every output feature is the input feature at the same place (activations, dropout), so a
    /// cross_entropy head may end with such layers after its final dense layer. Default false.
    var keepsFeatures: Bool { get }

    /// Checks the settings' ranges and that the layer fits an input of per-example shape `input` (no batch
    /// dimension), throwing a ``ModelFileError`` placed with `site` (at the layer, or at one of its settings).
    /// After this passes, ``parameters(input:)`` and ``append(to:parameters:label:in:)`` must succeed.
    func check(input: [Int], at site: LayerSite) throws
    /// The learnable tensors the layer creates on an input of per-example shape `input`, in creation order (which
    /// fixes initial values for a seed). Shapes may be absurdly large here: the builder counts them, saturating,
    /// against ``ModelLimits/maxParameterCount`` before it creates any.
    func parameters(input: [Int]) -> [LayerParameter]
    /// Appends the layer's nodes to `graph` on `x` ([batch] + input), reading `parameters` (one value per entry of
    /// ``parameters(input:)``, in order); `label` (the layer's key path) labels the nodes.
    func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value
}

extension Layer {
    public var isActivation: Bool { false }
    public var keepsFeatures: Bool { false }

    /// The syntax of this layer's word.
    var wordSyntax: LayerSyntax {
        guard let found = Self.syntax.first(where: { $0.keyword == keyword }) else {
            preconditionFailure("\(Self.self) has no syntax for its keyword '\(keyword)'")
        }
        return found
    }
}

/// One learnable tensor of a layer: `weight` of shape [units, in], He-uniform; `bias` of shape [units], zeros.
public struct LayerParameter: Equatable, Sendable {
    /// What follows the layer's name in the parameter's name (`shared.0.weight` has suffix `weight`).
    public var suffix: String
    /// The tensor's shape; dense weights are [out, in] and convolution weights [F, C, K, K], as PyTorch has them.
    public var shape: [Int]
    /// How the tensor starts.
    public var initializer: ParameterInit
    /// Whether the optimizer trains it; false for state the layer's kernels update (batch norm's running
    /// statistics), which is saved and loaded like any parameter.
    public var trainable: Bool

    /// Creates a parameter description.
    public init(_ suffix: String, shape: [Int], initializer: ParameterInit, trainable: Bool = true) {
        self.suffix = suffix; self.shape = shape; self.initializer = initializer; self.trainable = trainable
    }
}

/// Where a layer is written, to place its errors: the layer's key path and place, and the key paths of its
/// settings (`shared[0].conv2d.kernel` in a list, `graph[2].kernel` for a graph node, `shared[5].dropout` for a
/// layer written only as `dropout: 0.1`).
public struct LayerSite {
    /// The layer's key path (`shared[3]`, `graph[2]`, `mmoe.gates`).
    public let keyPath: String
    /// Where the layer is written.
    public let location: SourceLocation
    let settingPath: (String) -> String
    let locate: (String) -> SourceLocation

    /// An error at the layer itself.
    public func error(_ message: String) -> ModelFileError {
        ModelFileError(location: location, keyPath: keyPath, message: message)
    }

    /// An error at one of the layer's settings, such as `kernel`.
    public func error(setting key: String, _ message: String) -> ModelFileError {
        let path = settingPath(key)
        return ModelFileError(location: locate(path), keyPath: path, message: message)
    }

    /// Checks a size setting (units, filters, kernel, stride, padding): at least `min` (positive by default) and
    /// at most ``ModelLimits/maxDimension``.
    public func checkSize(_ value: Int, _ key: String, min: Int = 1) throws {
        if value < min {
            throw error(setting: key, "\(key) must be \(min == 1 ? "positive" : "at least \(min)"), got \(value)")
        }
        if value > ModelLimits.maxDimension {
            throw error(setting: key, "\(key) \(value) is absurdly large (the limit is \(ModelLimits.maxDimension))")
        }
    }

    /// `8`, `1×8×8`: a per-example shape as messages write it.
    public static func text(_ shape: [Int]) -> String { ModelSummary.shape(shape) }
}

/// Products of sizes that saturate at `Int.max` instead of trapping; the limits then refuse them.
enum Sizes {
    /// The product of `factors`, or `Int.max` when it overflows.
    static func product(_ factors: [Int]) -> Int {
        var product = 1
        for factor in factors {
            let (next, overflow) = product.multipliedReportingOverflow(by: factor)
            if overflow { return Int.max }
            product = next
        }
        return product
    }
}
