/// One call of a primitive kernel, with its buffers and sizes: the whole instruction set a ``Backend`` runs.
///
/// Layouts are row-major and contiguous; images are NCHW. Sizes are given explicitly and must be honoured
/// exactly: any size ≥ 1, never assumed to be a multiple of a tile. Unless a case says otherwise, outputs are
/// overwritten (not accumulated). No buffer a call writes may be passed as any other of its operands: the
/// optimizer updates and matmul with `beta ≠ 0` read and write one buffer in place, but never alias two.
/// "Row" means the leading dimension.
///
/// Each case's operands (role, access, required element count) and size rules are declared once, in
/// ``operands()``; ``validate()`` checks a call against them and is what every backend runs before a kernel.
public enum Kernel {
    /// `y[i] = value` for `i < count`.
    case fill(y: DeviceBuffer, value: Float, count: Int)
    /// `y[i] = x[i]` for `i < count`.
    case copy(x: DeviceBuffer, y: DeviceBuffer, count: Int)

    /// `C = alpha · op(A) · op(B) + beta · C`, with `op(A)` m×k and `op(B)` k×n, C m×n.
    /// A is stored m×k, or k×m when `transposeA`; B is stored k×n, or n×k when `transposeB`.
    /// With `beta == 0`, C's previous contents are ignored (even NaN).
    case matmul(a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer, shape: MatmulShape)
    /// `C = f(alpha · op(A) · op(B) + bias)`: a ``matmul(a:b:c:shape:)`` whose epilogue adds `bias[j]` to column j of
    /// every row of C and applies f (nothing when `activation` is nil) as C is stored: a dense layer's product, bias
    /// and activation in one call, which the executor plans in place of the three (``Executor``'s fusions). The shape's
    /// `beta` must be 0. Each element is rounded as the separate calls round it (the product, then the sum with the
    /// bias, then f), so on one backend the fused call gives the bits of ``matmul(a:b:c:shape:)``,
    /// ``biasAdd(x:bias:y:outer:channels:inner:)`` and ``unary(_:x:y:count:)`` in turn.
    case matmulBias(a: DeviceBuffer, b: DeviceBuffer, bias: DeviceBuffer, c: DeviceBuffer, shape: MatmulShape,
                    activation: UnaryFunction?)

    /// `y[o, c, i] = x[o, c, i] + bias[c]` for x viewed as [outer, channels, inner].
    /// A dense layer uses inner = 1; a convolution uses outer = N, inner = H·W.
    case biasAdd(x: DeviceBuffer, bias: DeviceBuffer, y: DeviceBuffer, outer: Int, channels: Int, inner: Int)
    /// `dBias[c] = Σ_{o,i} dy[o, c, i]`: the gradient of ``biasAdd(x:bias:y:outer:channels:inner:)`` with respect to
    /// the bias.
    case biasGradient(dy: DeviceBuffer, dBias: DeviceBuffer, outer: Int, channels: Int, inner: Int)

    /// 2-D cross-correlation (PyTorch's `conv2d`, no bias): input [N, C, H, W], weight [F, C/G, KH, KW],
    /// output [N, F, OH, OW]; zero padding. With G = `groups` > 1, input channels g·C/G ..< (g+1)·C/G feed only
    /// filters g·F/G ..< (g+1)·F/G (G = C is a depthwise convolution).
    case conv2d(input: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer, geometry: ConvGeometry)
    /// `output = f(conv2d(input, weight) + bias)` with `bias[f]` added to every element of filter f's planes and f
    /// applied (nothing when `activation` is nil) as the output is written: a convolution layer, its bias and
    /// activation in one call, rounded as the separate calls round them (see
    /// ``matmulBias(a:b:bias:c:shape:activation:)``).
    case conv2dBias(input: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer,
                    geometry: ConvGeometry, activation: UnaryFunction?)
    /// Gradient of ``conv2d(input:weight:output:geometry:)`` with respect to its input: dInput [N, C, H, W] from
    /// dOutput and weight.
    case conv2dBackwardInput(dOutput: DeviceBuffer, weight: DeviceBuffer, dInput: DeviceBuffer, geometry: ConvGeometry)
    /// Gradient of ``conv2d(input:weight:output:geometry:)`` with respect to its weight: dWeight [F, C, KH, KW] from
    /// input and dOutput.
    case conv2dBackwardWeight(input: DeviceBuffer, dOutput: DeviceBuffer, dWeight: DeviceBuffer, geometry: ConvGeometry)

    /// Max pooling over [N, C, H, W]; output [N, C, OH, OW]. `indices` receives, per output element, the index
    /// `h·W + w` within its input plane of the chosen maximum (the first one in row-major order on ties).
    case maxPool(input: DeviceBuffer, output: DeviceBuffer, indices: DeviceBuffer, geometry: PoolGeometry)
    /// Gradient of ``maxPool(input:output:indices:geometry:)``: dInput (overwritten, zero where no maximum was taken)
    /// receives each dOutput element at its recorded index, summed where windows overlap.
    case maxPoolBackward(dOutput: DeviceBuffer, indices: DeviceBuffer, dInput: DeviceBuffer, geometry: PoolGeometry)

    /// Row softmax of x [rows, cols], computed stably (subtract the row maximum).
    case softmax(x: DeviceBuffer, y: DeviceBuffer, rows: Int, cols: Int)
    /// `dx = y ⊙ (dy − Σ_j dy·y)` per row, from the softmax output y.
    case softmaxBackward(y: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer, rows: Int, cols: Int)
    /// Row log-softmax: `y = x − max − log Σ exp(x − max)`.
    case logSoftmax(x: DeviceBuffer, y: DeviceBuffer, rows: Int, cols: Int)
    /// `dx = dy − exp(y) · Σ_j dy` per row, from the log-softmax output y.
    case logSoftmaxBackward(y: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer, rows: Int, cols: Int)

    /// Fused softmax cross-entropy with integer labels. logits [rows, classes]; labels [rows] hold class
    /// indices as floats; mask [rows] holds 1 for rows that have a label and 0 for rows that do not (a masked
    /// row's label is ignored and may be anything). Writes probs = softmax(logits) and
    /// `rowLoss[i] = mask[i] · (logsumexp(logits[i]) − logits[i, label[i]])`.
    case softmaxCrossEntropy(logits: DeviceBuffer, labels: DeviceBuffer, mask: DeviceBuffer,
                             probs: DeviceBuffer, rowLoss: DeviceBuffer, rows: Int, classes: Int)
    /// `dLogits[i, j] = dRowLoss[i] · mask[i] · (probs[i, j] − [j == label[i]])`.
    case softmaxCrossEntropyBackward(probs: DeviceBuffer, labels: DeviceBuffer, mask: DeviceBuffer,
                                     dRowLoss: DeviceBuffer, dLogits: DeviceBuffer, rows: Int, classes: Int)

    /// Binary cross-entropy on logits z and targets t in [0, 1], both [rows, cols], with the weight w of positive
    /// targets (PyTorch's `BCEWithLogitsLoss(pos_weight:)`; finite and > 0, 1 for the plain loss):
    /// `rowLoss[i] = mask[i] / cols · Σ_j ℓ(z, t)` with `ℓ = −[w·t·log σ(z) + (1 − t)·log(1 − σ(z))]`, computed as
    /// `max(z,0) − z·t + log(1 + exp(−|z|))` plus, when w ≠ 1, `(w − 1)·t·softplus(−z)` (so w = 1 is exactly the
    /// plain loss).
    case binaryCrossEntropy(logits: DeviceBuffer, targets: DeviceBuffer, mask: DeviceBuffer,
                            rowLoss: DeviceBuffer, rows: Int, cols: Int, posWeight: Float)
    /// `dLogits[i, j] = dRowLoss[i] · mask[i] / cols · (sigmoid(z) − t)`, plus `(w − 1)·t·(sigmoid(z) − 1)` inside
    /// the bracket when w ≠ 1.
    case binaryCrossEntropyBackward(logits: DeviceBuffer, targets: DeviceBuffer, mask: DeviceBuffer,
                                    dRowLoss: DeviceBuffer, dLogits: DeviceBuffer, rows: Int, cols: Int,
                                    posWeight: Float)

    /// A regression loss f (``RegressionLoss``) of prediction p and target t, both [rows, cols]:
    /// `rowLoss[i] = mask[i] / cols · Σ_j f(p − t)`; for mean squared error `f(d) = d²`.
    case regressionLoss(RegressionLoss, predictions: DeviceBuffer, targets: DeviceBuffer, mask: DeviceBuffer,
                        rowLoss: DeviceBuffer, rows: Int, cols: Int)
    /// `dPredictions[i, j] = dRowLoss[i] · mask[i] · f′(p − t) / cols`; for mean squared error computed as
    /// `dRowLoss[i] · mask[i] · 2 / cols · (p − t)`.
    case regressionLossBackward(RegressionLoss, predictions: DeviceBuffer, targets: DeviceBuffer, mask: DeviceBuffer,
                                dRowLoss: DeviceBuffer, dPredictions: DeviceBuffer, rows: Int, cols: Int)

    /// Mean over the rows that have a label: `count[0] = Σ mask`, `loss[0] = Σ rowLoss / max(count[0], 1)`.
    case maskedMean(rowLoss: DeviceBuffer, mask: DeviceBuffer, loss: DeviceBuffer, count: DeviceBuffer, rows: Int)
    /// `dRowLoss[i] = dLoss[0] · mask[i] / max(count[0], 1)`.
    case maskedMeanBackward(dLoss: DeviceBuffer, mask: DeviceBuffer, count: DeviceBuffer,
                            dRowLoss: DeviceBuffer, rows: Int)

    /// Copies a block between row-major matrices of different widths: for `r < rows`, `c < cols`,
    /// `y[r·yStride + yOffset + c] = x[r·xStride + xOffset + c]`; every other element of y is left as it is.
    /// Concatenation writes each part at its offset; the gradient of a concatenation reads each part back.
    /// Strides are at least `cols` and offsets at least 0, so block rows never overlap.
    case copyBlock(x: DeviceBuffer, y: DeviceBuffer, rows: Int, cols: Int,
                   xStride: Int, xOffset: Int, yStride: Int, yOffset: Int)

    /// Mixture of experts: gates [rows, experts], values [rows, experts, features] →
    /// `y[n, f] = Σ_e gates[n, e] · values[n, e, f]` (MMoE's gated sum of expert outputs).
    case mixture(gates: DeviceBuffer, values: DeviceBuffer, y: DeviceBuffer, rows: Int, experts: Int, features: Int)
    /// `dGates[n, e] = Σ_f dy[n, f] · values[n, e, f]`.
    case mixtureBackwardGates(values: DeviceBuffer, dy: DeviceBuffer, dGates: DeviceBuffer,
                              rows: Int, experts: Int, features: Int)
    /// `dValues[n, e, f] = gates[n, e] · dy[n, f]`; with `accumulate`, `dValues[n, e, f] += gates[n, e] · dy[n, f]`
    /// (the product rounded, then added: a gradient sum the executor computes into, see `ProductAccumulation`).
    case mixtureBackwardValues(gates: DeviceBuffer, dy: DeviceBuffer, dValues: DeviceBuffer,
                               rows: Int, experts: Int, features: Int, accumulate: Bool = false)
    /// A softmax gate and its mixture in one call: `gates = softmax(logits)` per row (the row maximum subtracted
    /// before `exp`, as ``softmax(x:y:rows:cols:)``), written for the backward pass, and `y[n, f] = Σ_e gates[n, e] ·
    /// values[n, e, f]` as ``mixture(gates:values:y:rows:experts:features:)``. The executor plans it in place of
    /// the two when the softmax's output is read first by the mixture.
    case mixtureSoftmax(logits: DeviceBuffer, values: DeviceBuffer, gates: DeviceBuffer, y: DeviceBuffer,
                        rows: Int, experts: Int, features: Int)
    /// The gates gradient through their softmax in one call: `dGates[n, e] = Σ_f dy[n, f] · values[n, e, f]` as
    /// ``mixtureBackwardGates(values:dy:dGates:rows:experts:features:)``, then `dLogits = gates ⊙ (dGates − Σ_e
    /// dGates · gates)` per row as ``softmaxBackward(y:dy:dx:rows:cols:)``, without writing dGates. The executor
    /// plans it in place of the two when nothing else reads the gates gradient.
    case mixtureBackwardLogits(values: DeviceBuffer, gates: DeviceBuffer, dy: DeviceBuffer, dLogits: DeviceBuffer,
                               rows: Int, experts: Int, features: Int)

    /// `y = f(x)` element-wise.
    case unary(UnaryFunction, x: DeviceBuffer, y: DeviceBuffer, count: Int)
    /// `dx = f′(x) · dy`; x is f's input and y its output. Each function needs only one of them
    /// (``UnaryFunction/derivativeReadsInput``), but both must hold `count` elements.
    case unaryBackward(UnaryFunction, x: DeviceBuffer, y: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer, count: Int)
    /// ``unaryBackward(_:x:y:dy:dx:count:)`` over x, y, dy, dx viewed as [outer, channels, inner], and the
    /// ``biasGradient(dy:dBias:outer:channels:inner:)`` of its result, `dBias[c] = Σ_{o,i} dx[o, c, i]`, in one
    /// pass: the backward of a layer's bias and activation, which the executor plans in place of the two calls.
    /// dx and dBias have the bits of the two calls on one backend.
    case unaryBackwardBiasGradient(UnaryFunction, x: DeviceBuffer, y: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer,
                                   dBias: DeviceBuffer, outer: Int, channels: Int, inner: Int)
    /// `y = a ∘ b` element-wise.
    case binary(BinaryFunction, a: DeviceBuffer, b: DeviceBuffer, y: DeviceBuffer, count: Int)
    /// `y[i] = alpha · x[i]`.
    case scale(x: DeviceBuffer, y: DeviceBuffer, alpha: Float, count: Int)
    /// `y[0] = Σ_i x[i]`, accumulated pairwise (or in a tree) in float32.
    case sum(x: DeviceBuffer, y: DeviceBuffer, count: Int)
    /// `y[0] = Σ_i x[i]²`, accumulated like ``sum(x:y:count:)``: squared norms for gradient clipping and diagnostics.
    case sumOfSquares(x: DeviceBuffer, y: DeviceBuffer, count: Int)

    /// Inverted dropout: `mask[i] = u(seed, firstIndex + i) < p ? 0 : 1/(1−p)`, `y[i] = x[i] · mask[i]`, with
    /// ``DropoutRandom/uniform(seed:index:)`` as u so that every backend draws the same mask. `p` is in [0, 1),
    /// `firstIndex ≥ 0` (where the buffer starts in a larger tensor whose masks it shares: one process's rows of a
    /// data-parallel batch) and `firstIndex + count` at most 2³² (the index is 32-bit).
    case dropout(x: DeviceBuffer, y: DeviceBuffer, mask: DeviceBuffer, probability: Float, seed: UInt32, count: Int,
                 firstIndex: Int = 0)

    /// SGD with momentum and L2 weight decay (PyTorch's `SGD`): `g = grad + wd·param`,
    /// `velocity = momentum·velocity + g`, `param −= lr·velocity`. param and velocity are updated in place;
    /// the three buffers must be distinct.
    case sgdUpdate(param: DeviceBuffer, grad: DeviceBuffer, velocity: DeviceBuffer, count: Int, hyper: SGDHyperparameters)
    /// AdamW (PyTorch's `AdamW`, decoupled weight decay): `param −= lr·wd·param`; `m = β1·m + (1−β1)·g`;
    /// `v = β2·v + (1−β2)·g²`; `param −= lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + ε)`, with t = `hyper.step` ≥ 1.
    /// param, m and v are updated in place; the four buffers must be distinct.
    case adamUpdate(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, count: Int, hyper: AdamHyperparameters)
    /// RMSprop (PyTorch's `RMSprop`, not centered): `g = grad + wd·param`; `square = α·square + (1−α)·g²`;
    /// with momentum μ > 0, `buffer = μ·buffer + g / (sqrt(square) + ε)` and `param −= lr·buffer`; with μ = 0,
    /// `param −= lr · g / (sqrt(square) + ε)` (the buffer is left as it is).
    case rmspropUpdate(param: DeviceBuffer, grad: DeviceBuffer, square: DeviceBuffer, buffer: DeviceBuffer, count: Int,
                       hyper: RMSpropHyperparameters)

    /// `y = f(x; parameter)` element-wise (``ParametricUnaryFunction``: leaky ReLU's slope, ELU's alpha).
    case parametricUnary(ParametricUnaryFunction, parameter: Float, x: DeviceBuffer, y: DeviceBuffer, count: Int)
    /// `dx = ∂f(x; parameter)/∂x · dy`, from f's input x.
    case parametricUnaryBackward(ParametricUnaryFunction, parameter: Float, x: DeviceBuffer, dy: DeviceBuffer,
                                 dx: DeviceBuffer, count: Int)

    /// Average pooling over [N, C, H, W]; output [N, C, OH, OW]: each output is the mean of its K×K window
    /// (the same windows as ``maxPool(input:output:indices:geometry:)``: no padding, none crossing the edge).
    case avgPool(input: DeviceBuffer, output: DeviceBuffer, geometry: PoolGeometry)
    /// Gradient of ``avgPool(input:output:geometry:)``: `dInput[h, w] = Σ dOutput[oh, ow] / K²` over the windows
    /// containing (h, w) (overwritten; zero where no window reaches).
    case avgPoolBackward(dOutput: DeviceBuffer, dInput: DeviceBuffer, geometry: PoolGeometry)

    /// Row mean of x [rows, cols]: `y[r] = Σ_j x[r, j] / cols`. Global average pooling views [N, C, H, W] as
    /// [N·C, H·W].
    case rowMean(x: DeviceBuffer, y: DeviceBuffer, rows: Int, cols: Int)
    /// Gradient of ``rowMean(x:y:rows:cols:)``: `dx[r, j] = dy[r] / cols`.
    case rowMeanBackward(dy: DeviceBuffer, dx: DeviceBuffer, rows: Int, cols: Int)

    /// Scaled layer normalization of each row of x [rows, cols] (PyTorch's `LayerNorm` over the last dimension, whose
    /// shift beta is a following ``biasAdd(x:bias:y:outer:channels:inner:)``): `mean = Σ_j x_j / cols`, `var = Σ_j (x_j
    /// − mean)² / cols` (biased), `rstd = 1 / sqrt(var + eps)`, `normalized = (x − mean) · rstd`, `y = normalized ⊙
    /// gamma`; gamma [cols], rstd [rows]. eps is finite and > 0.
    case layerNorm(x: DeviceBuffer, gamma: DeviceBuffer, y: DeviceBuffer, normalized: DeviceBuffer, rstd: DeviceBuffer,
                   rows: Int, cols: Int, eps: Float)
    /// Gradient of ``layerNorm(x:gamma:y:normalized:rstd:rows:cols:eps:)`` with respect to x, from its normalized
    /// output x̂ and rstd: with `g = dy ⊙ gamma`, `dx = rstd · (g − Σ_j g_j / cols − x̂ · Σ_j g_j·x̂_j / cols)` per
    /// row.
    case layerNormBackward(normalized: DeviceBuffer, rstd: DeviceBuffer, gamma: DeviceBuffer, dy: DeviceBuffer,
                           dx: DeviceBuffer, rows: Int, cols: Int)

    /// Training-mode batch normalization of x viewed as [outer, channels, inner] (x [N, C, H, W] is N × C × H·W),
    /// per channel c over the real rows (`rowMask[n]` 1, padding 0) and every inner position, with
    /// `M = inner · Σ_n rowMask[n]`: `mean[c] = Σ mask·x / M`, `var = Σ mask·(x − mean)² / M` (biased, two passes),
    /// `rstd[c] = 1 / sqrt(var + eps)`, `normalized = (x − mean) · rstd` and `y = normalized · gamma[c]` at every
    /// position (padding rows too), and `variance[c]` the unbiased `var · M / (M − 1)` (the biased one when M is
    /// 1) for the running statistics. At least one row is real; eps is finite and > 0.
    case batchNorm(x: DeviceBuffer, rowMask: DeviceBuffer, gamma: DeviceBuffer, y: DeviceBuffer,
                   normalized: DeviceBuffer, mean: DeviceBuffer, variance: DeviceBuffer, rstd: DeviceBuffer,
                   outer: Int, channels: Int, inner: Int, eps: Float)
    /// Moves batch normalization's running statistics toward a batch's: `running ← (1 − momentum) · running +
    /// momentum · batch`, for the mean and the (unbiased) variance, each [channels]; momentum in [0, 1].
    case batchNormRunningUpdate(mean: DeviceBuffer, variance: DeviceBuffer, runningMean: DeviceBuffer,
                                runningVariance: DeviceBuffer, channels: Int, momentum: Float)
    /// Inference-mode batch normalization with the running statistics: `y = (x − runningMean[c]) /
    /// sqrt(runningVariance[c] + eps) · gamma[c]` over x viewed as [outer, channels, inner].
    case batchNormInference(x: DeviceBuffer, gamma: DeviceBuffer, runningMean: DeviceBuffer,
                            runningVariance: DeviceBuffer, y: DeviceBuffer, outer: Int, channels: Int, inner: Int,
                            eps: Float)
    /// Gradient of training-mode
    /// ``batchNorm(x:rowMask:gamma:y:normalized:mean:variance:rstd:outer:channels:inner:eps:)`` with respect to x: with
    /// `g = dy · gamma[c]` and sums over every row and position of the channel, `dx = rstd · (g − rowMask[n] · (Σ g +
    /// x̂ · Σ g·x̂) / M)`, M as in the forward pass (padding rows do not move the statistics, so only their own x̂ path
    /// remains).
    case batchNormBackward(normalized: DeviceBuffer, rstd: DeviceBuffer, gamma: DeviceBuffer, dy: DeviceBuffer,
                           rowMask: DeviceBuffer, dx: DeviceBuffer, outer: Int, channels: Int, inner: Int)
    /// Embedding lookup: `y[t, d] = weight[ids[t], d]` for t < tokens, d < dim, with weight [vocabulary, dim]
    /// and ids [tokens] holding token ids as floats. An id that is not a whole number in [0, vocabulary) (NaN,
    /// negative, too large, fractional) and the `padding` id (−1 for none) give a zero row: the weight is never
    /// read out of bounds, whatever the data. (Training refuses such data before it starts; this is the kernel's
    /// own guarantee.)
    case embedding(ids: DeviceBuffer, weight: DeviceBuffer, y: DeviceBuffer, tokens: Int, vocabulary: Int, dim: Int,
                   padding: Int)
    /// Gradient of ``embedding(ids:weight:y:tokens:vocabulary:dim:padding:)`` with respect to the weight: `dWeight[v,
    /// d] = Σ_{t: ids[t] = v} dy[t, d]`, summed in increasing t (deterministic, the same order on every backend); rows
    /// no valid id uses, the padding row and invalid ids contribute nothing, and dWeight is overwritten (zero
    /// elsewhere). Costs O(vocabulary·dim) to zero plus O(tokens·dim) to add (and, on OpenCL, O(tokens²) id comparisons
    /// to link each row's tokens).
    case embeddingBackward(ids: DeviceBuffer, dy: DeviceBuffer, dWeight: DeviceBuffer, tokens: Int, vocabulary: Int,
                           dim: Int, padding: Int)
    /// `C[b] = alpha · op(A[b]) · op(B[b]) + beta · C[b]` for b < batch, each a ``matmul(a:b:c:shape:)`` of `shape` on
    /// the b-th contiguous matrix of A (m·k elements), B (k·n) and C (m·n).
    case batchedMatmul(a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer, batch: Int, shape: MatmulShape)
    /// Exchanges two adjacent dimensions: x [outer, first, second, inner] → y [outer, second, first, inner],
    /// `y[o, j, i, e] = x[o, i, j, e]`.
    case swapAxes(x: DeviceBuffer, y: DeviceBuffer, outer: Int, first: Int, second: Int, inner: Int)
    /// Causal mask of x [batch, rows, cols]: `y[b, i, j] = j > i ? fill : x[b, i, j]`.
    case causalMask(x: DeviceBuffer, y: DeviceBuffer, batch: Int, rows: Int, cols: Int, fill: Float)
}

extension Kernel {
    /// The kernel's name, as errors and call counters report it (`matmul`, `unary.relu`, ...).
    public var name: String {
        switch self {
        case .fill: return "fill"
        case .copy: return "copy"
        case .matmul: return "matmul"
        case .matmulBias: return "matmulBias"
        case .biasAdd: return "biasAdd"
        case .biasGradient: return "biasGradient"
        case .conv2d: return "conv2d"
        case .conv2dBias: return "conv2dBias"
        case .conv2dBackwardInput: return "conv2dBackwardInput"
        case .conv2dBackwardWeight: return "conv2dBackwardWeight"
        case .maxPool: return "maxPool"
        case .maxPoolBackward: return "maxPoolBackward"
        case .softmax: return "softmax"
        case .softmaxBackward: return "softmaxBackward"
        case .logSoftmax: return "logSoftmax"
        case .logSoftmaxBackward: return "logSoftmaxBackward"
        case .softmaxCrossEntropy: return "softmaxCrossEntropy"
        case .softmaxCrossEntropyBackward: return "softmaxCrossEntropyBackward"
        case .binaryCrossEntropy: return "binaryCrossEntropy"
        case .binaryCrossEntropyBackward: return "binaryCrossEntropyBackward"
        case let .regressionLoss(function, _, _, _, _, _, _): return "regressionLoss.\(function.name)"
        case let .regressionLossBackward(function, _, _, _, _, _, _, _): return "regressionLossBackward.\(function.name)"
        case .maskedMean: return "maskedMean"
        case .maskedMeanBackward: return "maskedMeanBackward"
        case .copyBlock: return "copyBlock"
        case .mixture: return "mixture"
        case .mixtureBackwardGates: return "mixtureBackwardGates"
        case .mixtureBackwardValues: return "mixtureBackwardValues"
        case .mixtureSoftmax: return "mixtureSoftmax"
        case .mixtureBackwardLogits: return "mixtureBackwardLogits"
        case let .unary(function, _, _, _): return "unary.\(function.rawValue)"
        case let .unaryBackward(function, _, _, _, _, _): return "unaryBackward.\(function.rawValue)"
        case let .unaryBackwardBiasGradient(function, _, _, _, _, _, _, _, _):
            return "unaryBackwardBiasGradient.\(function.rawValue)"
        case let .binary(function, _, _, _, _): return "binary.\(function.rawValue)"
        case .scale: return "scale"
        case .sum: return "sum"
        case .sumOfSquares: return "sumOfSquares"
        case .dropout: return "dropout"
        case .sgdUpdate: return "sgdUpdate"
        case .adamUpdate: return "adamUpdate"
        case .rmspropUpdate: return "rmspropUpdate"
        case let .parametricUnary(function, _, _, _, _): return "parametricUnary.\(function.rawValue)"
        case let .parametricUnaryBackward(function, _, _, _, _, _): return "parametricUnaryBackward.\(function.rawValue)"
        case .avgPool: return "avgPool"
        case .avgPoolBackward: return "avgPoolBackward"
        case .rowMean: return "rowMean"
        case .rowMeanBackward: return "rowMeanBackward"
        case .layerNorm: return "layerNorm"
        case .layerNormBackward: return "layerNormBackward"
        case .batchNorm: return "batchNorm"
        case .batchNormRunningUpdate: return "batchNormRunningUpdate"
        case .batchNormInference: return "batchNormInference"
        case .batchNormBackward: return "batchNormBackward"
        case .embedding: return "embedding"
        case .embeddingBackward: return "embeddingBackward"
        case .batchedMatmul: return "batchedMatmul"
        case .swapAxes: return "swapAxes"
        case .causalMask: return "causalMask"
        }
    }
}
