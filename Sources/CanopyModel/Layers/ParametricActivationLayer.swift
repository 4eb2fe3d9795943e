import CanopyCore

/// An element-wise activation with one setting, as PyTorch defines it: `leaky_relu` (`x` above 0, `slope·x` at
/// and below; slope 0.01 by default) and `elu` (`x` above 0, `alpha·(eˣ − 1)` at and below; alpha 1 by default).
/// Written as the bare word, with the shorthand (`leaky_relu: 0.2`) or the mapping (`leaky_relu: {slope: 0.2}`,
/// `elu: {alpha: 0.5}`). No parameters.
public struct ParametricActivationLayer: Layer, Sendable {
    /// The function applied to each element.
    public var function: ParametricUnaryFunction
    /// Its setting: leaky ReLU's slope, ELU's alpha.
    public var parameter: Float

    /// An activation layer with its setting.
    public init(_ function: ParametricUnaryFunction, parameter: Float) {
        self.function = function; self.parameter = parameter
    }

    public static let syntax = [
        LayerSyntax(keyword: "leaky_relu", settings: [.number("slope", default: .number(0.01))], shorthand: "slope",
                    example: "{slope: 0.2}", summary: "x if x > 0, else slope·x, element-wise; slope in [0, 1] "
                        + "(PyTorch's LeakyReLU)",
                    make: { .leakyRelu(slope: $0.float("slope")) }),
        LayerSyntax(keyword: "elu", settings: [.number("alpha", default: .number(1))], shorthand: "alpha",
                    example: "{alpha: 1.0}", summary: "x if x > 0, else alpha·(e^x − 1), element-wise; alpha ≥ 0 "
                        + "(PyTorch's ELU)",
                    make: { .elu(alpha: $0.float("alpha")) }),
    ]

    public var keyword: String { Self.keyword(function) }
    public var description: String { "\(keyword) \(parameter)" }
    public var hasParameters: Bool { false }
    public var isActivation: Bool { true }
    public var keepsFeatures: Bool { true }

    /// The model-file word of each function.
    static func keyword(_ function: ParametricUnaryFunction) -> String {
        switch function {
        case .leakyRelu: return "leaky_relu"
        case .elu: return "elu"
        }
    }

    public func check(input: [Int], at site: LayerSite) throws {
        switch function {
        case .leakyRelu:
            guard parameter >= 0 && parameter <= 1 else {
                throw site.error(setting: "slope", "leaky_relu's slope must be in [0, 1], got \(parameter)")
            }
        case .elu:
            guard parameter >= 0 else {
                throw site.error(setting: "alpha", "elu's alpha must be at least 0, got \(parameter)")
            }
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        graph.parametricUnary(function, parameter: parameter, x, label: label)
    }
}

extension LayerKind {
    /// `leaky_relu: {slope}`: `x` above 0, `slope·x` at and below (PyTorch's default slope is 0.01).
    public static func leakyRelu(slope: Float = 0.01) -> LayerKind {
        LayerKind(ParametricActivationLayer(.leakyRelu, parameter: slope))
    }

    /// `elu: {alpha}`: `x` above 0, `alpha·(eˣ − 1)` at and below (PyTorch's default alpha is 1).
    public static func elu(alpha: Float = 1) -> LayerKind { LayerKind(ParametricActivationLayer(.elu, parameter: alpha)) }
}
