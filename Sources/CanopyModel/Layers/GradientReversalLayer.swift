import CanopyCore

/// Gradient reversal (Ganin & Lempitsky, 2015): the identity in the forward pass, `−λ·gradient` in the backward
/// pass: `gradient_reversal: 0.5`, `gradient_reversal: {lambda: 0.5}`, or the bare word for λ = 1; in a graph,
/// `{name: r, op: gradient_reversal, lambda: 0.5}`. A domain-discriminator head placed after it learns to tell the
/// domains apart while the shared layers before it are pushed to make the domains indistinguishable. No
/// parameters; the output shares its input's buffer, so it costs no memory and no kernel in the forward pass.
///
/// λ is a constant finite number ≥ 0 (0 blocks the gradient); it does not follow a schedule.
public struct GradientReversalLayer: Layer {
    /// How strongly the gradient is reversed: the backward pass multiplies it by −λ.
    public var lambda: Float

    /// A gradient reversal layer with factor `lambda`.
    public init(lambda: Float) { self.lambda = lambda }

    public static let syntax = [
        LayerSyntax(keyword: "gradient_reversal", settings: [.number("lambda", default: .number(1))],
                    shorthand: "lambda", example: "{lambda: 1.0}",
                    summary: "identity forward, −lambda × the gradient backward (a domain-adversarial head's input)",
                    make: { .gradientReversal(lambda: $0.float("lambda")) }),
    ]

    public var keyword: String { "gradient_reversal" }
    public var description: String { "gradient_reversal λ=\(lambda)" }
    public var hasParameters: Bool { false }
    public var keepsFeatures: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        guard lambda.isFinite && lambda >= 0 else {
            throw site.error(setting: "lambda", "gradient_reversal's lambda must be a finite number ≥ 0, got \(lambda)")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        try graph.gradientReversal(x, lambda: lambda, label: label)
    }
}

extension LayerKind {
    /// `gradient_reversal: lambda`.
    public static func gradientReversal(lambda: Float = 1) -> LayerKind { LayerKind(GradientReversalLayer(lambda: lambda)) }
}
