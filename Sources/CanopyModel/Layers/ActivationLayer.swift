import CanopyCore

/// An element-wise activation, written as its bare name: `relu`, `sigmoid`, `tanh`, `gelu`, `silu`. No parameters.
/// (`leaky_relu` and `elu`, which take a setting, are ``ParametricActivationLayer``s.)
public struct ActivationLayer: Layer, Sendable {
    /// The function applied to each element.
    public var function: ActivationKind

    /// An activation layer.
    public init(_ function: ActivationKind) { self.function = function }

    public static let syntax = ActivationKind.allCases.map { function in
        LayerSyntax(keyword: function.rawValue, summary: function.summary, make: { _ in .activation(function) })
    }

    public var keyword: String { function.rawValue }
    public var description: String { function.rawValue }
    public var hasParameters: Bool { false }
    public var isActivation: Bool { true }
    public var keepsFeatures: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {}

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        graph.unary(UnaryFunction(function), x, label: label)
    }
}

extension LayerKind {
    /// `relu`, `sigmoid`, `tanh`, `gelu` or `silu`.
    public static func activation(_ function: ActivationKind) -> LayerKind { LayerKind(ActivationLayer(function)) }
}

/// Element-wise activation functions.
public enum ActivationKind: String, CaseIterable, Equatable, Hashable, Sendable {
    /// `max(0, x)`.
    case relu
    /// `1 / (1 + e^(−x))`.
    case sigmoid
    /// `tanh(x)`.
    case tanh
    /// `x·Φ(x)` with Φ the standard normal CDF; a backend may use the tanh approximation
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    case gelu
    /// `x·σ(x)` with σ the logistic sigmoid (PyTorch's `SiLU`, also called swish).
    case silu

    /// The formula, for the layer reference.
    var summary: String {
        switch self {
        case .relu: return "max(0, x), element-wise"
        case .sigmoid: return "1 / (1 + e^(−x)), element-wise"
        case .tanh: return "tanh(x), element-wise"
        case .gelu: return "x·Φ(x), element-wise (a backend may use the tanh approximation)"
        case .silu: return "x·σ(x) = x / (1 + e^(−x)), element-wise (PyTorch's SiLU)"
        }
    }
}

extension UnaryFunction {
    /// The kernel function of a model-file activation.
    public init(_ activation: ActivationKind) {
        switch activation {
        case .relu: self = .relu
        case .sigmoid: self = .sigmoid
        case .tanh: self = .tanh
        case .gelu: self = .gelu
        case .silu: self = .silu
        }
    }
}
