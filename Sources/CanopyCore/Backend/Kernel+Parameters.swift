// The sizes, functions and hyperparameters Kernel cases carry: shapes and geometries, the element-wise
// functions, optimizer settings and dropout's random numbers.

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
public enum DropoutRandom: Sendable {
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
