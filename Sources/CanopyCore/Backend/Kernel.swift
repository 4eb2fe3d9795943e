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

    /// `y[o, c, i] = x[o, c, i] + bias[c]` for x viewed as [outer, channels, inner].
    /// A dense layer uses inner = 1; a convolution uses outer = N, inner = H·W.
    case biasAdd(x: DeviceBuffer, bias: DeviceBuffer, y: DeviceBuffer, outer: Int, channels: Int, inner: Int)
    /// `dBias[c] = Σ_{o,i} dy[o, c, i]`: the gradient of ``biasAdd`` with respect to the bias.
    case biasGradient(dy: DeviceBuffer, dBias: DeviceBuffer, outer: Int, channels: Int, inner: Int)

    /// 2-D cross-correlation (PyTorch's `conv2d`, no bias): input [N, C, H, W], weight [F, C/G, KH, KW],
    /// output [N, F, OH, OW]; zero padding. With G = `groups` > 1, input channels g·C/G ..< (g+1)·C/G feed only
    /// filters g·F/G ..< (g+1)·F/G (G = C is a depthwise convolution).
    case conv2d(input: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer, geometry: ConvGeometry)
    /// Gradient of ``conv2d`` with respect to its input: dInput [N, C, H, W] from dOutput and weight.
    case conv2dBackwardInput(dOutput: DeviceBuffer, weight: DeviceBuffer, dInput: DeviceBuffer, geometry: ConvGeometry)
    /// Gradient of ``conv2d`` with respect to its weight: dWeight [F, C, KH, KW] from input and dOutput.
    case conv2dBackwardWeight(input: DeviceBuffer, dOutput: DeviceBuffer, dWeight: DeviceBuffer, geometry: ConvGeometry)

    /// Max pooling over [N, C, H, W]; output [N, C, OH, OW]. `indices` receives, per output element, the index
    /// `h·W + w` within its input plane of the chosen maximum (the first one in row-major order on ties).
    case maxPool(input: DeviceBuffer, output: DeviceBuffer, indices: DeviceBuffer, geometry: PoolGeometry)
    /// Gradient of ``maxPool``: dInput (overwritten, zero where no maximum was taken) receives each dOutput
    /// element at its recorded index, summed where windows overlap.
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
    /// `dValues[n, e, f] = gates[n, e] · dy[n, f]`.
    case mixtureBackwardValues(gates: DeviceBuffer, dy: DeviceBuffer, dValues: DeviceBuffer,
                               rows: Int, experts: Int, features: Int)

    /// `y = f(x)` element-wise.
    case unary(UnaryFunction, x: DeviceBuffer, y: DeviceBuffer, count: Int)
    /// `dx = f′(x) · dy`; x is f's input and y its output. Each function needs only one of them
    /// (``UnaryFunction/derivativeReadsInput``), but both must hold `count` elements.
    case unaryBackward(UnaryFunction, x: DeviceBuffer, y: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer, count: Int)
    /// `y = a ∘ b` element-wise.
    case binary(BinaryFunction, a: DeviceBuffer, b: DeviceBuffer, y: DeviceBuffer, count: Int)
    /// `y[i] = alpha · x[i]`.
    case scale(x: DeviceBuffer, y: DeviceBuffer, alpha: Float, count: Int)
    /// `y[0] = Σ_i x[i]`, accumulated pairwise (or in a tree) in float32.
    case sum(x: DeviceBuffer, y: DeviceBuffer, count: Int)
    /// `y[0] = Σ_i x[i]²`, accumulated like ``sum``: squared norms for gradient clipping and diagnostics.
    case sumOfSquares(x: DeviceBuffer, y: DeviceBuffer, count: Int)

    /// Inverted dropout: `mask[i] = u(seed, i) < p ? 0 : 1/(1−p)`, `y[i] = x[i] · mask[i]`, with
    /// ``DropoutRandom/uniform(seed:index:)`` as u so that every backend draws the same mask. `p` is in [0, 1)
    /// and `count` at most 2³² (i is a 32-bit index).
    case dropout(x: DeviceBuffer, y: DeviceBuffer, mask: DeviceBuffer, probability: Float, seed: UInt32, count: Int)

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
    /// (the same windows as ``maxPool``: no padding, none crossing the edge).
    case avgPool(input: DeviceBuffer, output: DeviceBuffer, geometry: PoolGeometry)
    /// Gradient of ``avgPool``: `dInput[h, w] = Σ dOutput[oh, ow] / K²` over the windows containing (h, w)
    /// (overwritten; zero where no window reaches).
    case avgPoolBackward(dOutput: DeviceBuffer, dInput: DeviceBuffer, geometry: PoolGeometry)

    /// Row mean of x [rows, cols]: `y[r] = Σ_j x[r, j] / cols`. Global average pooling views [N, C, H, W] as
    /// [N·C, H·W].
    case rowMean(x: DeviceBuffer, y: DeviceBuffer, rows: Int, cols: Int)
    /// Gradient of ``rowMean``: `dx[r, j] = dy[r] / cols`.
    case rowMeanBackward(dy: DeviceBuffer, dx: DeviceBuffer, rows: Int, cols: Int)

    /// Scaled layer normalization of each row of x [rows, cols] (PyTorch's `LayerNorm` over the last dimension,
    /// whose shift beta is a following ``biasAdd``): `mean = Σ_j x_j / cols`, `var = Σ_j (x_j − mean)² / cols`
    /// (biased), `rstd = 1 / sqrt(var + eps)`, `normalized = (x − mean) · rstd`, `y = normalized ⊙ gamma`; gamma
    /// [cols], rstd [rows]. eps is finite and > 0.
    case layerNorm(x: DeviceBuffer, gamma: DeviceBuffer, y: DeviceBuffer, normalized: DeviceBuffer, rstd: DeviceBuffer,
                   rows: Int, cols: Int, eps: Float)
    /// Gradient of ``layerNorm`` with respect to x, from its normalized output x̂ and rstd: with `g = dy ⊙ gamma`,
    /// `dx = rstd · (g − Σ_j g_j / cols − x̂ · Σ_j g_j·x̂_j / cols)` per row.
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
    /// Gradient of training-mode ``batchNorm`` with respect to x: with `g = dy · gamma[c]` and sums over every row
    /// and position of the channel, `dx = rstd · (g − rowMask[n] · (Σ g + x̂ · Σ g·x̂) / M)`, M as in the forward
    /// pass (padding rows do not move the statistics, so only their own x̂ path remains).
    case batchNormBackward(normalized: DeviceBuffer, rstd: DeviceBuffer, gamma: DeviceBuffer, dy: DeviceBuffer,
                           rowMask: DeviceBuffer, dx: DeviceBuffer, outer: Int, channels: Int, inner: Int)
    /// Embedding lookup: `y[t, d] = weight[ids[t], d]` for t < tokens, d < dim, with weight [vocabulary, dim]
    /// and ids [tokens] holding token ids as floats. An id that is not a whole number in [0, vocabulary) (NaN,
    /// negative, too large, fractional) and the `padding` id (−1 for none) give a zero row: the weight is never
    /// read out of bounds, whatever the data. (Training refuses such data before it starts; this is the kernel's
    /// own guarantee.)
    case embedding(ids: DeviceBuffer, weight: DeviceBuffer, y: DeviceBuffer, tokens: Int, vocabulary: Int, dim: Int,
                   padding: Int)
    /// Gradient of ``embedding`` with respect to the weight: `dWeight[v, d] = Σ_{t: ids[t] = v} dy[t, d]`, summed in
    /// increasing t (deterministic, the same order on every backend); rows no valid id uses, the padding row and
    /// invalid ids contribute nothing, and dWeight is overwritten (zero elsewhere). Costs O(vocabulary·dim) to zero
    /// plus O(tokens·dim) to add (and, on OpenCL, O(tokens²) id comparisons to link each row's tokens).
    case embeddingBackward(ids: DeviceBuffer, dy: DeviceBuffer, dWeight: DeviceBuffer, tokens: Int, vocabulary: Int,
                           dim: Int, padding: Int)
    /// `C[b] = alpha · op(A[b]) · op(B[b]) + beta · C[b]` for b < batch, each a ``matmul`` of `shape` on the
    /// b-th contiguous matrix of A (m·k elements), B (k·n) and C (m·n).
    case batchedMatmul(a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer, batch: Int, shape: MatmulShape)
    /// Exchanges two adjacent dimensions: x [outer, first, second, inner] → y [outer, second, first, inner],
    /// `y[o, j, i, e] = x[o, i, j, e]`.
    case swapAxes(x: DeviceBuffer, y: DeviceBuffer, outer: Int, first: Int, second: Int, inner: Int)
    /// Causal mask of x [batch, rows, cols]: `y[b, i, j] = j > i ? fill : x[b, i, j]`.
    case causalMask(x: DeviceBuffer, y: DeviceBuffer, batch: Int, rows: Int, cols: Int, fill: Float)
}

/// Sizes of a ``Kernel/matmul(a:b:c:shape:)``.
public struct MatmulShape: Equatable, Sendable {
    /// Rows of op(A) and of C (`m`), columns of op(B) and of C (`n`), and the shared inner dimension (`k`).
    public var m: Int, n: Int, k: Int
    /// Whether A is stored k×m (`transposeA`) and B n×k (`transposeB`) rather than m×k and k×n.
    public var transposeA: Bool, transposeB: Bool
    /// Scale of the product (`alpha`) and of C's previous contents (`beta`); `beta == 0` ignores C entirely.
    public var alpha: Float, beta: Float

    /// Creates the sizes of `C = alpha · op(A) · op(B) + beta · C`; by default `C = A · B` with nothing transposed.
    public init(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                alpha: Float = 1, beta: Float = 0) {
        self.m = m; self.n = n; self.k = k
        self.transposeA = transposeA; self.transposeB = transposeB
        self.alpha = alpha; self.beta = beta
    }
}

/// Sizes of a 2-D convolution over NCHW input with an [F, C/G, KH, KW] weight, G = `groups`.
public struct ConvGeometry: Equatable, Sendable {
    /// The input's shape [N, C, H, W].
    public var batch: Int, inChannels: Int, inHeight: Int, inWidth: Int
    /// Filters F (the output's channels) and the window height KH and width KW; the weight is [F, C, KH, KW].
    public var outChannels: Int, kernelHeight: Int, kernelWidth: Int
    /// Steps between windows, and zeros added on each side (top and bottom, left and right) of the input.
    public var strideHeight: Int, strideWidth: Int, padHeight: Int, padWidth: Int
    /// Channel groups G: input channels and filters are split into G equal blocks, block g of the filters
    /// reading only block g of the channels. 1 is an ordinary convolution; G = C a depthwise one.
    public var groups: Int

    /// Creates a convolution's sizes; by default stride 1, no padding, one group. Nothing is validated here.
    public init(batch: Int, inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
                padHeight: Int = 0, padWidth: Int = 0, groups: Int = 1) {
        self.groups = groups
        self.batch = batch; self.inChannels = inChannels; self.inHeight = inHeight; self.inWidth = inWidth
        self.outChannels = outChannels; self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padHeight = padHeight; self.padWidth = padWidth
    }

    /// `(H + 2·pad − KH) / stride + 1`, rounded down.
    public var outHeight: Int { (inHeight + 2 * padHeight - kernelHeight) / strideHeight + 1 }
    /// `(W + 2·pad − KW) / stride + 1`, rounded down.
    public var outWidth: Int { (inWidth + 2 * padWidth - kernelWidth) / strideWidth + 1 }
    /// Elements of the input, N·C·H·W.
    public var inputCount: Int { batch * inChannels * inHeight * inWidth }
    /// Input channels per group, C/G.
    public var groupChannels: Int { inChannels / groups }
    /// Filters per group, F/G.
    public var groupFilters: Int { outChannels / groups }
    /// Elements of the weight, F·(C/G)·KH·KW.
    public var weightCount: Int { outChannels * groupChannels * kernelHeight * kernelWidth }
    /// Elements of the output, N·F·OH·OW.
    public var outputCount: Int { batch * outChannels * outHeight * outWidth }
}

/// Sizes of a max or average pooling over NCHW input, no padding; windows that would cross the edge are not formed.
public struct PoolGeometry: Equatable, Sendable {
    /// The input's shape [N, C, H, W]; the output keeps N and C.
    public var batch: Int, channels: Int, inHeight: Int, inWidth: Int
    /// Side of the square window, and the step between windows in both directions.
    public var kernel: Int, stride: Int

    /// Creates a pooling's sizes. Nothing is validated here.
    public init(batch: Int, channels: Int, inHeight: Int, inWidth: Int, kernel: Int, stride: Int) {
        self.batch = batch; self.channels = channels; self.inHeight = inHeight; self.inWidth = inWidth
        self.kernel = kernel; self.stride = stride
    }

    /// `(H − kernel) / stride + 1`, rounded down.
    public var outHeight: Int { (inHeight - kernel) / stride + 1 }
    /// `(W − kernel) / stride + 1`, rounded down.
    public var outWidth: Int { (inWidth - kernel) / stride + 1 }
    /// Elements of the input, N·C·H·W.
    public var inputCount: Int { batch * channels * inHeight * inWidth }
    /// Elements of the output (and of its indices), N·C·OH·OW.
    public var outputCount: Int { batch * channels * outHeight * outWidth }
}

/// Element-wise functions of one argument.
public enum UnaryFunction: String, CaseIterable, Sendable {
    /// `max(x, 0)`; derivative 0 at 0.
    case relu
    /// `1 / (1 + exp(−x))`, computed without overflow for large |x|.
    case sigmoid
    /// `tanh(x)`.
    case tanh
    /// `x · Φ(x)` with the exact normal CDF `Φ(x) = (1 + erf(x/√2)) / 2` (PyTorch's default GELU).
    case gelu
    /// `x · σ(x)` with σ the logistic sigmoid (PyTorch's `SiLU`); derivative `σ(x)·(1 + x·(1 − σ(x)))`.
    case silu
}

/// Element-wise functions of one argument and one parameter α, as PyTorch defines them.
public enum ParametricUnaryFunction: String, CaseIterable, Sendable {
    /// `x > 0 ? x : α·x` (PyTorch's `LeakyReLU`, α the negative slope); derivative α at 0 and below.
    case leakyRelu
    /// `x > 0 ? x : α·(exp(x) − 1)` (PyTorch's `ELU`, computed with `expm1`); derivative `α·exp(x)` at 0
    /// and below.
    case elu
}

/// Element-wise functions of two arguments of the same length.
public enum BinaryFunction: String, CaseIterable, Sendable {
    /// `a + b`, `a − b` and `a · b`.
    case add, subtract, multiply
}

/// Hyperparameters of one ``Kernel/sgdUpdate(param:grad:velocity:count:hyper:)``.
public struct SGDHyperparameters: Equatable, Sendable {
    /// Step size lr, momentum factor (0 keeps no history) and L2 coefficient wd added to the gradient.
    public var learningRate: Float, momentum: Float, weightDecay: Float
    /// Creates SGD hyperparameters; by default plain SGD without momentum or weight decay.
    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.learningRate = learningRate; self.momentum = momentum; self.weightDecay = weightDecay
    }
}

/// Hyperparameters of one ``Kernel/adamUpdate(param:grad:m:v:count:hyper:)``.
public struct AdamHyperparameters: Equatable, Sendable {
    /// Step size lr, decay rates β1 and β2 of the two moments, ε added to the denominator, and decoupled decay wd.
    public var learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    /// The 1-based number of this update, for bias correction.
    public var step: Int
    /// Creates AdamW hyperparameters with PyTorch's defaults except `weightDecay`, which is 0 here.
    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, step: Int) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2
        self.epsilon = epsilon; self.weightDecay = weightDecay; self.step = step
    }
}

/// Hyperparameters of one ``Kernel/rmspropUpdate(param:grad:square:buffer:count:hyper:)``.
public struct RMSpropHyperparameters: Equatable, Sendable {
    /// Step size lr, smoothing constant α of the squared-gradient average, ε added to its root, momentum μ and
    /// L2 coefficient wd added to the gradient.
    public var learningRate: Float, alpha: Float, epsilon: Float, momentum: Float, weightDecay: Float
    /// Creates RMSprop hyperparameters with PyTorch's defaults (α 0.99, ε 1e-8, no momentum, no weight decay).
    public init(learningRate: Float, alpha: Float = 0.99, epsilon: Float = 1e-8, momentum: Float = 0,
                weightDecay: Float = 0) {
        self.learningRate = learningRate; self.alpha = alpha; self.epsilon = epsilon
        self.momentum = momentum; self.weightDecay = weightDecay
    }
}

/// The counter-based random numbers dropout uses, specified exactly so that every backend draws the same masks.
///
/// `uniform(seed, i) = (hash(hash(i) ^ seed) >> 8) · 2⁻²⁴`, with Chris Wellons' "lowbias32" integer hash
/// `x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16` in wrapping 32-bit arithmetic.
/// OpenCL kernels implement the same lines in `uint`.
public enum DropoutRandom {
    /// Chris Wellons' "lowbias32" hash of `value`, in wrapping 32-bit arithmetic.
    @inline(__always)
    public static func hash(_ value: UInt32) -> UInt32 {
        var x = value
        x ^= x >> 16
        x = x &* 0x7feb_352d
        x ^= x >> 15
        x = x &* 0x846c_a68b
        x ^= x >> 16
        return x
    }

    /// A float in [0, 1) with 24 random bits.
    @inline(__always)
    public static func uniform(seed: UInt32, index: UInt32) -> Float {
        Float(hash(hash(index) ^ seed) >> 8) * (1.0 / 16_777_216.0)
    }
}

extension Kernel {
    /// The kernel's name, as errors and call counters report it (`matmul`, `unary.relu`, ...).
    public var name: String {
        switch self {
        case .fill: return "fill"
        case .copy: return "copy"
        case .matmul: return "matmul"
        case .biasAdd: return "biasAdd"
        case .biasGradient: return "biasGradient"
        case .conv2d: return "conv2d"
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
        case let .unary(function, _, _, _): return "unary.\(function.rawValue)"
        case let .unaryBackward(function, _, _, _, _, _): return "unaryBackward.\(function.rawValue)"
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
