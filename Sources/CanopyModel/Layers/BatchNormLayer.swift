import CanopyCore

/// Batch normalization per channel, PyTorch's `nn.BatchNorm1d(C)` on a flat `[C]` or `[C, length]` input and
/// `nn.BatchNorm2d(C)` on `[C, H, W]`: channels are the first dimension of each example, and the statistics run over
/// the batch's real rows (padding rows of a short last batch do not count) and every position.
/// Written `batchnorm` or `{batchnorm: {momentum: 0.1, eps: 1e-5}}`; in a graph, `{name: n, op: batchnorm}`.
///
/// In training, `y = (x − mean_B) / sqrt(var_B + eps) · gamma + beta` with the batch's mean and biased variance,
/// and the running statistics move toward the batch's: `running ← (1 − momentum) · running + momentum · batch`
/// (the variance unbiased), as PyTorch does. Evaluation, prediction and a trained model's checkpoint use the
/// running statistics. Parameters, named as PyTorch names them: `weight` (gamma) [C], ones; `bias` (beta) [C],
/// zeros; and, not trained but saved and loaded with the others, `running_mean` [C], zeros, and `running_var`
/// [C], ones.
public struct BatchNormLayer: Layer, Sendable {
    /// How far the running statistics move toward each batch's, in [0, 1].
    public var momentum: Float
    /// Added to the variance before the square root (finite, > 0).
    public var eps: Float

    /// A batch normalization with PyTorch's defaults.
    public init(momentum: Float = 0.1, eps: Float = 1e-5) { self.momentum = momentum; self.eps = eps }

    public static let syntax = [
        LayerSyntax(keyword: "batchnorm", settings: [.number("momentum", default: .number(0.1)),
                                                     .number("eps", default: .number(1e-5))],
                    example: "{momentum: 0.1, eps: 1e-5}",
                    summary: "batch normalization per channel (the first dimension), running statistics for evaluation",
                    make: { .batchNorm(momentum: $0.float("momentum"), eps: $0.float("eps")) }),
    ]

    public var keyword: String { "batchnorm" }
    public var description: String {
        "batchnorm" + (momentum == 0.1 ? "" : " momentum \(momentum)") + (eps == 1e-5 ? "" : " eps \(eps)")
    }
    public var hasParameters: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        guard momentum.isFinite && momentum >= 0 && momentum <= 1 else {
            throw site.error(setting: "momentum", "batchnorm momentum must be between 0 and 1, got \(momentum)")
        }
        guard eps.isFinite && eps > 0 else {
            throw site.error(setting: "eps", "batchnorm eps must be a positive number, got \(eps)")
        }
        guard (1...3).contains(input.count) else {
            throw site.error("batchnorm needs a [channels], [channels, length] or [channels, height, width] input but "
                                + "gets \(LayerSite.text(input))")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] {
        [LayerParameter("weight", shape: [input[0]], initializer: .constant(1)),
         LayerParameter("bias", shape: [input[0]], initializer: .zeros),
         LayerParameter("running_mean", shape: [input[0]], initializer: .zeros, trainable: false),
         LayerParameter("running_var", shape: [input[0]], initializer: .constant(1), trainable: false)]
    }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        let rows = graph.input(ModelGraph.realRowsInputName, shape: [graph.shape(of: x)[0]])
        let normalized = try graph.batchNorm(x, gamma: parameters[0], runningMean: parameters[2],
                                             runningVariance: parameters[3], rowMask: rows, momentum: momentum, eps: eps,
                                             label: label)
        return try graph.biasAdd(normalized, parameters[1], label: label)
    }
}

extension LayerKind {
    /// `batchnorm` / `{batchnorm: {momentum, eps}}`.
    public static func batchNorm(momentum: Float = 0.1, eps: Float = 1e-5) -> LayerKind {
        LayerKind(BatchNormLayer(momentum: momentum, eps: eps))
    }
}
