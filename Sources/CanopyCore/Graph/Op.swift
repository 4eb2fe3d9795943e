/// The operations a ``Graph`` node can perform. Each maps to one or more ``Kernel`` calls, or to none
/// (``reshape`` and inference-mode ``dropout(_:)`` alias their input).
///
/// Forward operations appear in model graphs; the `…Backward`/`…Gradient` operations are emitted by ``Autodiff``.
/// Loss operations take `(prediction, target, mask)` where the mask marks rows that have a label.
public enum Op: Equatable, Sendable {
    /// Data uploaded before each step (a batch of inputs, labels, masks, task weights).
    case input(String)
    /// A trainable tensor, persistent across steps, initialised by `ParameterInit`.
    case parameter(String, ParameterInit)

    /// `op(a)·op(b)`; see ``MatmulShape``. Inputs: a, b.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// Broadcast add of a per-channel bias; x viewed as [outer, channels, inner]. Inputs: x, bias.
    case biasAdd
    /// Inputs: x [N, C, H, W], weight [F, C/G, KH, KW]. Output [N, F, OH, OW].
    case conv2d(ConvSettings)
    /// Input x [N, C, H, W]. Outputs: y [N, C, OH, OW], indices (same shape) for the backward pass.
    case maxPool(kernel: Int, stride: Int)
    /// Element-wise function. Input: x.
    case unary(UnaryFunction)
    /// Element-wise function of two same-shaped inputs.
    case binary(BinaryFunction)
    /// `alpha · x`.
    case scale(Float)
    /// The same elements with another shape (no copy). Input: x.
    case reshape
    /// Inverted dropout with probability p. Outputs: y, mask. In inference the output aliases x.
    case dropout(Float)
    /// Concatenation of two or more inputs along `axis`; every other dimension must agree.
    case concat(axis: Int)
    /// `length` entries of x along `axis`, starting at `start`.
    case slice(axis: Int, start: Int, length: Int)
    /// Gated sum of experts: gates [N, E], values [N, E, F] → [N, F] (see ``Kernel/mixture(gates:values:y:rows:experts:features:)``).
    case mixture
    /// Row softmax over the last dimension.
    case softmax
    /// Row log-softmax over the last dimension.
    case logSoftmax
    /// Fused softmax cross-entropy. Inputs: logits [N, C], labels [N], mask [N]. Outputs: rowLoss [N], probs [N, C].
    case softmaxCrossEntropy
    /// Inputs: logits [N, K], targets [N, K], mask [N]. Output: rowLoss [N].
    case binaryCrossEntropy
    /// Inputs: predictions [N, K], targets [N, K], mask [N]. Output: rowLoss [N].
    case meanSquaredError
    /// Inputs: rowLoss [N], mask [N]. Outputs: loss [1] (mean over labelled rows), count [1].
    case maskedMean
    /// A regression loss other than mean squared error (which graphs spell ``meanSquaredError``, as they always
    /// have). Inputs: predictions [N, K], targets [N, K], mask [N]. Output: rowLoss [N].
    case regressionLoss(RegressionLoss)
    /// Binary cross-entropy with a weight ≠ 1 on positive targets (weight 1 is ``binaryCrossEntropy``).
    /// Inputs: logits [N, K], targets [N, K], mask [N]. Output: rowLoss [N].
    case weightedBinaryCrossEntropy(posWeight: Float)

    // Emitted by autodiff.
    /// Inputs: dy. Output: dBias [channels] (x's layout recorded in the forward node's shapes).
    case biasGradient(channels: Int)
    /// Inputs: dOutput, weight. Output: dInput.
    case conv2dBackwardInput(ConvSettings)
    /// Inputs: input, dOutput. Output: dWeight.
    case conv2dBackwardWeight(ConvSettings)
    /// Inputs: dOutput, indices. Output: dInput.
    case maxPoolBackward(kernel: Int, stride: Int)
    /// Inputs: x, y, dy. Output: dx.
    case unaryBackward(UnaryFunction)
    /// Inputs: y, dy. Output: dx.
    case softmaxBackward
    /// Inputs: y, dy. Output: dx.
    case logSoftmaxBackward
    /// Inputs: probs, labels, mask, dRowLoss. Output: dLogits.
    case softmaxCrossEntropyBackward
    /// Inputs: logits, targets, mask, dRowLoss. Output: dLogits.
    case binaryCrossEntropyBackward
    /// Inputs: predictions, targets, mask, dRowLoss. Output: dPredictions.
    case meanSquaredErrorBackward
    /// Inputs: dLoss [1], mask, count [1]. Output: dRowLoss.
    case maskedMeanBackward
    /// Inputs: predictions, targets, mask, dRowLoss. Output: dPredictions.
    case regressionLossBackward(RegressionLoss)
    /// Inputs: logits, targets, mask, dRowLoss. Output: dLogits.
    case weightedBinaryCrossEntropyBackward(posWeight: Float)
    /// Input: dy (the slice's shape). Output: zeros of the sliced value's shape with dy at the slice: the
    /// gradient of ``slice(axis:start:length:)``.
    case embedSlice(axis: Int, start: Int, length: Int)
    /// Inputs: values, dy. Output: dGates.
    case mixtureBackwardGates
    /// Inputs: gates, dy. Output: dValues.
    case mixtureBackwardValues

    /// Element-wise function with a parameter (leaky ReLU's slope, ELU's alpha). Input: x.
    case parametricUnary(ParametricUnaryFunction, Float)
    /// Average pooling of x [N, C, H, W] → [N, C, OH, OW], the windows of ``maxPool(kernel:stride:)``.
    case avgPool(kernel: Int, stride: Int)
    /// Mean of each channel's plane: x [N, C, H, W] → [N, C].
    case globalAvgPool
    /// Emitted by autodiff. Inputs: x, dy. Output: dx.
    case parametricUnaryBackward(ParametricUnaryFunction, Float)
    /// Emitted by autodiff. Input: dOutput. Output: dInput.
    case avgPoolBackward(kernel: Int, stride: Int)
    /// Emitted by autodiff. Input: dy [N, C]. Output: dx [N, C, H, W], each plane filled with dy / (H·W).
    case globalAvgPoolBackward

    /// Layer normalization over the last dimension with a per-feature scale, PyTorch's `LayerNorm` without its
    /// shift (which a ``biasAdd`` adds; see ``Kernel/layerNorm(x:gamma:y:normalized:rstd:rows:cols:eps:)``).
    /// Inputs: x [N, F], gamma [F]. Outputs: y [N, F], the normalized x̂ [N, F] and rstd [N] for the backward pass.
    case layerNorm(eps: Float)
    /// Emitted by autodiff. Inputs: x̂ [N, F], rstd [N], gamma [F], dy [N, F]. Output: dx.
    case layerNormBackward
    /// Gradient reversal (Ganin & Lempitsky, 2015): the identity forward (the output aliases x, no copy), and
    /// `−lambda · dy` backward. Inputs: x, and optionally a factor [1] the host sets per step (a schedule of λ),
    /// which makes the backward `−lambda · factor · dy`; the forward pass never reads it.
    case gradientReversal(lambda: Float)
    /// Batch normalization over dimension 1 (channels) of x [N, C, ...] with a per-channel scale, PyTorch's
    /// `BatchNorm1d`/`BatchNorm2d` without its shift (a following ``biasAdd``). Inputs: x, gamma [C], the running
    /// mean and running variance [C] (non-trainable parameters), and the batch's row mask [N] (1 for a real row,
    /// 0 for padding, which the statistics leave out). Outputs: y, the normalized x̂ (both like x), rstd, the batch
    /// mean and the batch's unbiased variance [C]. In training mode the statistics are the batch's and the running
    /// ones move toward them by `momentum` (a state update, see ``Executor/run(seed:nodes:updatingState:)``); in
    /// inference mode the running statistics normalize and only y is written.
    case batchNorm(momentum: Float, eps: Float)
    /// Emitted by autodiff. Inputs: x̂, rstd [C], gamma [C], dy, row mask [N]. Output: dx.
    case batchNormBackward

    /// Embedding lookup (PyTorch's `nn.Embedding`): ids [...] holding token ids as whole floats, weight [V, D] →
    /// [..., D], each id's row of the weight. An id that is not a whole number in [0, V), and the `padding` id,
    /// give a zero row (see ``Kernel/embedding(ids:weight:y:tokens:vocabulary:dim:padding:)``).
    /// Inputs: ids, weight.
    case embedding(padding: Int?)
    /// Emitted by autodiff. Inputs: ids, dy [..., D]. Output: dWeight [V, D], the rows the ids used.
    case embeddingBackward(padding: Int?)
    /// Batched `op(a)·op(b)` of rank-3 values: a [B, M, K] (or [B, K, M] with `transposeA`), b [B, K, N] (or
    /// [B, N, K]) → [B, M, N]. Inputs: a, b.
    case batchedMatmul(transposeA: Bool, transposeB: Bool)
    /// Exchanges dimensions `axis` and `axis + 1` (a copy): [..., P, Q, ...] → [..., Q, P, ...]. Input: x.
    case swapAxes(axis: Int)
    /// Over the last two dimensions [..., rows, cols]: entries with column j > row i become `fill`, the rest
    /// are x (a causal attention mask before a softmax uses −∞; its gradient uses 0). Input: x.
    case causalMask(fill: Float)
}

/// How a parameter's initial values are drawn.
public enum ParameterInit: Equatable, Sendable {
    /// All zeros.
    case zeros
    /// All equal to a constant.
    case constant(Float)
    /// He (Kaiming) uniform: U(−b, b) with b = √(6 / fanIn), suited to ReLU networks.
    case heUniform(fanIn: Int)
    /// Glorot (Xavier) uniform: U(−b, b) with b = √(6 / (fanIn + fanOut)).
    case glorotUniform(fanIn: Int, fanOut: Int)
    /// These exact values (row-major), such as a cross-stitch unit's initial mixing matrix.
    case values([Float])
    /// U(−bound, bound): PyTorch's default for `Linear` and `Conv2d` weights and biases uses bound = 1/√fanIn.
    case uniform(bound: Float)
    /// U(−bound, bound), except row `zeroRow` of a [rows, rowLength] matrix, which is all zeros: an embedding
    /// table whose padding row stays zero.
    case uniformWithZeroRow(bound: Float, zeroRow: Int, rowLength: Int)
}

extension Op {
    /// A short name for printing graphs and errors.
    public var name: String {
        switch self {
        case let .input(name): return "input(\(name))"
        case let .parameter(name, _): return "parameter(\(name))"
        case let .unary(f): return f.rawValue
        case let .unaryBackward(f): return "\(f.rawValue)Backward"
        case let .binary(f): return f.rawValue
        case let .parametricUnary(f, _): return f.rawValue
        case let .parametricUnaryBackward(f, _): return "\(f.rawValue)Backward"
        default:
            let text = String(describing: self)
            return String(text.prefix { $0 != "(" })
        }
    }
}
