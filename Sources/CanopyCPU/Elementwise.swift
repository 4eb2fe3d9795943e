import CanopyCore
import CCPUKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Element-wise kernels: fill, copy, the unary functions (plain and parametric) and their derivatives, binary
// arithmetic, scale and biasAdd. Each element is computed independently, so chunks may run on any thread. The
// commonest (relu, arithmetic, scale, bias) are C kernels on the processor's widest vectors (CCPUKernels).

extension CPUBackend {
    func fill(y: DeviceBuffer, value: Float, count: Int) throws {
        let y = writing(y)
        parallelRanges(count: count) { range in
            (y + range.lowerBound).update(repeating: value, count: range.count)
        }
    }

    func copy(x: DeviceBuffer, y: DeviceBuffer, count: Int) throws {
        let x = reading(x)
        let y = writing(y)
        parallelRanges(count: count) { range in
            (y + range.lowerBound).update(from: x + range.lowerBound, count: range.count)
        }
    }

    func scale(x: DeviceBuffer, y: DeviceBuffer, alpha: Float, count: Int) throws {
        let x = reading(x)
        let y = writing(y)
        parallelRanges(count: count) { range in canopy_scale(x + range.lowerBound, alpha, y + range.lowerBound, range.count) }
    }

    func binary(_ function: BinaryFunction, a: DeviceBuffer, b: DeviceBuffer, y: DeviceBuffer, count: Int) throws {
        let a = reading(a)
        let b = reading(b)
        let y = writing(y)
        let kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
        switch function {
        case .add: kernel = canopy_add
        case .subtract: kernel = canopy_subtract
        case .multiply: kernel = canopy_multiply
        }
        parallelRanges(count: count) { range in
            let start = range.lowerBound
            kernel(a + start, b + start, y + start, range.count)
        }
    }

    func unary(_ function: UnaryFunction, x: DeviceBuffer, y: DeviceBuffer, count: Int) throws {
        let x = reading(x)
        let y = writing(y)
        parallelRanges(count: count, grain: function == .relu ? CPUBackend.elementGrain : 4096) { range in
            CPUBackend.apply(function, x: x, y: y, range: range)
        }
    }

    /// `y[i] = f(x[i])` for i in `range` on the calling thread (x and y may be the same): the one definition of
    /// the unary functions that ``unary`` and the products' epilogues (``matmulBias``) share.
    @inline(__always)
    static func apply(_ function: UnaryFunction, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, range: Range<Int>) {
        switch function {
        case .relu: canopy_relu(x + range.lowerBound, y + range.lowerBound, range.count)
        case .sigmoid: for i in range { y[i] = UnaryMath.sigmoid(x[i]) }
        case .tanh: for i in range { y[i] = tanhf(x[i]) }
        case .gelu: for i in range { y[i] = UnaryMath.gelu(x[i]) }
        case .silu: for i in range { y[i] = x[i] * UnaryMath.sigmoid(x[i]) }
        }
    }

    /// `dx = f′(x) · dy`. gelu and silu read x; relu, sigmoid and tanh read their output y (`y > 0`, `y(1−y)`,
    /// `1−y²`); only the buffer the function needs is read.
    func unaryBackward(_ function: UnaryFunction, x: DeviceBuffer, y: DeviceBuffer, dy: DeviceBuffer,
                       dx: DeviceBuffer, count: Int) throws {
        let source = function.derivativeReadsInput ? reading(x) : reading(y)
        let dy = reading(dy)
        let dx = writing(dx)
        parallelRanges(count: count, grain: function == .gelu ? 4096 : CPUBackend.elementGrain) { range in
            CPUBackend.applyDerivative(function, source: source, dy: dy, dx: dx, range: range)
        }
    }

    /// `dx[i] = f′ · dy[i]` for i in `range` on the calling thread, `source` being f's input or output as
    /// ``UnaryFunction/derivativeReadsInput`` says: the one definition of the derivatives that ``unaryBackward`` and
    /// ``unaryBackwardBiasGradient`` share.
    @inline(__always)
    static func applyDerivative(_ function: UnaryFunction, source: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>, range: Range<Int>) {
        switch function {
        case .relu:
            let start = range.lowerBound
            canopy_relu_backward(source + start, dy + start, dx + start, range.count)
        case .sigmoid:
            forEachLanes(range) { i, rest in
                let s = Lanes(source + i, rest)
                (s * (1 - s) * Lanes(dy + i, rest)).store(to: dx + i, rest)
            }
        case .tanh:
            forEachLanes(range) { i, rest in
                let s = Lanes(source + i, rest)
                ((1 - s * s) * Lanes(dy + i, rest)).store(to: dx + i, rest)
            }
        case .gelu: for i in range { dx[i] = UnaryMath.geluDerivative(source[i]) * dy[i] }
        case .silu: for i in range { dx[i] = UnaryMath.siluDerivative(source[i]) * dy[i] }
        }
    }

    /// `y = f(x; α)`: leaky ReLU `x > 0 ? x : α·x`, ELU `x > 0 ? x : α·expm1(x)`.
    func parametricUnary(_ function: ParametricUnaryFunction, parameter alpha: Float, x: DeviceBuffer,
                         y: DeviceBuffer, count: Int) throws {
        let x = reading(x)
        let y = writing(y)
        parallelRanges(count: count, grain: function == .leakyRelu ? CPUBackend.elementGrain : 4096) { range in
            switch function {
            case .leakyRelu: for i in range { y[i] = x[i] > 0 ? x[i] : alpha * x[i] }
            case .elu: for i in range { y[i] = x[i] > 0 ? x[i] : alpha * expm1f(x[i]) }
            }
        }
    }

    /// `dx = f′(x; α) · dy`: 1 above 0; α (leaky ReLU) or `α·exp(x)` (ELU) at 0 and below, as PyTorch has them.
    func parametricUnaryBackward(_ function: ParametricUnaryFunction, parameter alpha: Float, x: DeviceBuffer,
                                 dy: DeviceBuffer, dx: DeviceBuffer, count: Int) throws {
        let x = reading(x)
        let dy = reading(dy)
        let dx = writing(dx)
        parallelRanges(count: count, grain: function == .leakyRelu ? CPUBackend.elementGrain : 4096) { range in
            switch function {
            case .leakyRelu: for i in range { dx[i] = x[i] > 0 ? dy[i] : alpha * dy[i] }
            case .elu: for i in range { dx[i] = x[i] > 0 ? dy[i] : alpha * expf(x[i]) * dy[i] }
            }
        }
    }

    func biasAdd(x: DeviceBuffer, bias: DeviceBuffer, y: DeviceBuffer, outer: Int, channels: Int, inner: Int) throws {
        let x = reading(x)
        let bias = reading(bias)
        let y = writing(y)
        if inner == 1 {
            // A dense layer's [outer, channels]: each row adds the bias vector.
            parallelRows(rows: outer, rowCost: channels) { rows in
                canopy_bias_add_rows(x + rows.lowerBound * channels, bias, y + rows.lowerBound * channels, rows.count, channels)
            }
            return
        }
        // Rows are (o, c) pairs of `inner` elements, all sharing bias[c].
        parallelRows(rows: outer * channels, rowCost: inner) { rows in
            for row in rows { canopy_add_scalar(x + row * inner, bias[row % channels], y + row * inner, inner) }
        }
    }
}

/// Scalar definitions of the unary functions, shared by the forward and backward kernels.
enum UnaryMath {
    /// `1 / (1 + exp(−x))` without overflow: `exp` only ever sees a non-positive argument.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + expf(-x)) }
        let e = expf(x)
        return e / (1 + e)
    }

    /// `x · Φ(x)`, `Φ(x) = (1 + erf(x/√2)) / 2`.
    @inline(__always)
    static func gelu(_ x: Float) -> Float {
        0.5 * x * (1 + erff(x * Float(0.5.squareRoot())))
    }

    /// `Φ(x) + x·φ(x)`, `φ(x) = exp(−x²/2) / √(2π)`.
    @inline(__always)
    static func geluDerivative(_ x: Float) -> Float {
        let cdf = 0.5 * (1 + erff(x * Float(0.5.squareRoot())))
        let pdf = expf(-0.5 * x * x) * Float(1 / (2 * Double.pi).squareRoot())
        return cdf + x * pdf
    }

    /// `σ(x)·(1 + x·(1 − σ(x)))`, the derivative of `x·σ(x)`.
    @inline(__always)
    static func siluDerivative(_ x: Float) -> Float {
        let s = sigmoid(x)
        return s * (1 + x * (1 - s))
    }

    /// `log(1 + exp(−|z|))`, the smooth part of the logistic loss, accurate for large |z|.
    @inline(__always)
    static func softplusOfNegativeMagnitude(_ z: Float) -> Float {
        log1pf(expf(-abs(z)))
    }
}
