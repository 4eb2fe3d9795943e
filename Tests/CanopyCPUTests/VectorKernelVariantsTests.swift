import CanopyCPU
import CCPUKernels
import XCTest

/// The C kernels (CCPUKernels) give the same bits on every instruction set the processor has (AVX-512, AVX2, the
/// baseline), at sizes around the 16-float vector (tails of every length), equal to a scalar loop doing the same
/// operations in the same order; relu keeps its NaN → 0 and −0 → +0.
final class VectorKernelVariantsTests: XCTestCase {
    private let sizes = [1, 7, 15, 16, 17, 33, 129, 1000]

    private var variants: [canopy_vectors] { supportedVectorVariants() }

    override func tearDown() {
        canopy_vectors_use(canopy_vectors_supported())
        super.tearDown()
    }

    private func values(_ count: Int, seed: UInt64, positive: Bool = false) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let unit = Float(state >> 40) / Float(1 << 24)
            return positive ? unit + 0.01 : unit * 4 - 2
        }
    }

    /// Runs `body` on every variant and checks each result's bits against `reference`.
    private func check(_ what: String, size: Int, reference: [[Float]], _ body: () -> [[Float]]) {
        for variant in variants {
            canopy_vectors_use(variant)
            XCTAssertEqual(canopy_vectors_in_use(), variant)
            let results = body()
            for (result, expected) in zip(results, reference) {
                XCTAssertEqual(result.map(\.bitPattern), expected.map(\.bitPattern), "\(what), \(size) elements, variant \(variant.rawValue)")
            }
        }
    }

    func testElementwiseKernelsAgreeBitForBitOnEveryVariant() {
        XCTAssertGreaterThanOrEqual(variants.count, 1)
        print("vector variants here: \(variants.map(\.rawValue)), in use by default: \(CPUBackend.vectorInstructions)")
        for size in sizes {
            var x = values(size, seed: 1), b = values(size, seed: 2)
            x[0] = .nan
            if size > 2 { x[1] = -0.0; x[2] = .infinity }
            let bias = values(5, seed: 3)
            check("relu", size: size, reference: [x.map { $0 > 0 ? $0 : 0 }]) {
                var y = [Float](repeating: 9, count: size)
                canopy_relu(x, &y, size)
                return [y]
            }
            check("relu backward", size: size, reference: [zip(x, b).map { $0 > 0 ? $1 : 0 }]) {
                var y = [Float](repeating: 9, count: size)
                canopy_relu_backward(x, b, &y, size)
                return [y]
            }
            check("add, subtract, multiply, scale, add scalar", size: size,
                  reference: [zip(x, b).map(+), zip(x, b).map(-), zip(x, b).map(*), x.map { 0.3 * $0 }, x.map { $0 + 0.7 }]) {
                var sum = [Float](repeating: 0, count: size), difference = sum, product = sum, scaled = sum, shifted = sum
                canopy_add(x, b, &sum, size)
                canopy_subtract(x, b, &difference, size)
                canopy_multiply(x, b, &product, size)
                canopy_scale(x, 0.3, &scaled, size)
                canopy_add_scalar(x, 0.7, &shifted, size)
                return [sum, difference, product, scaled, shifted]
            }
            let rows = values(size * 5, seed: 4)
            check("bias add rows", size: size, reference: [rows.indices.map { rows[$0] + bias[$0 % 5] }]) {
                var y = [Float](repeating: 0, count: size * 5)
                canopy_bias_add_rows(rows, bias, &y, size, 5)
                return [y]
            }
            // In place: y is x.
            check("relu in place", size: size, reference: [x.map { $0 > 0 ? $0 : 0 }]) {
                var y = x
                y.withUnsafeMutableBufferPointer { canopy_relu($0.baseAddress!, $0.baseAddress!, size) }
                return [y]
            }
        }
    }

    func testOptimizerUpdatesAgreeBitForBitOnEveryVariant() {
        for size in sizes {
            let grad = values(size, seed: 5), start = values(size, seed: 6)
            let m0 = values(size, seed: 7), v0 = values(size, seed: 8, positive: true)
            // Adam, the scalar order of the CPU backend's documentation.
            let (lr, b1, b2, eps, decay, c1, c2): (Float, Float, Float, Float, Float, Float, Float) = (1e-3, 0.9, 0.999, 1e-8, 1e-5, 0.19, 0.002997)
            var adam = (p: start, m: m0, v: v0)
            for i in 0..<size {
                var p = start[i]
                p = p - decay * p
                let m = b1 * m0[i] + (1 - b1) * grad[i]
                let v = b2 * v0[i] + (1 - b2) * grad[i] * grad[i]
                adam.m[i] = m; adam.v[i] = v
                adam.p[i] = p - lr * (m / c1) / ((v / c2).squareRoot() + eps)
            }
            check("adam", size: size, reference: [adam.p, adam.m, adam.v]) {
                var p = start, m = m0, v = v0
                canopy_adam_update(&p, grad, &m, &v, size, lr, b1, b2, eps, decay, c1, c2)
                return [p, m, v]
            }
            // SGD with momentum and weight decay.
            var sgd = (p: start, u: m0)
            for i in 0..<size {
                let g = grad[i] + 0.01 * start[i]
                sgd.u[i] = 0.9 * m0[i] + g
                sgd.p[i] = start[i] - 0.05 * sgd.u[i]
            }
            check("sgd", size: size, reference: [sgd.p, sgd.u]) {
                var p = start, u = m0
                canopy_sgd_update(&p, grad, &u, size, 0.05, 0.9, 0.01)
                return [p, u]
            }
            // RMSprop with and without momentum (without, the buffer stays as it was).
            for momentum: Float in [0, 0.5] {
                var rms = (p: start, s: v0, b: m0)
                for i in 0..<size {
                    let g = grad[i] + 0.01 * start[i]
                    let s = 0.99 * v0[i] + (1 - 0.99) * g * g
                    rms.s[i] = s
                    let step = g / (s.squareRoot() + 1e-8)
                    if momentum > 0 {
                        rms.b[i] = momentum * m0[i] + step
                        rms.p[i] = start[i] - 0.01 * rms.b[i]
                    } else {
                        rms.p[i] = start[i] - 0.01 * step
                    }
                }
                check("rmsprop momentum \(momentum)", size: size, reference: [rms.p, rms.s, rms.b]) {
                    var p = start, s = v0, b = m0
                    canopy_rmsprop_update(&p, grad, &s, &b, size, 0.01, 0.99, 1e-8, momentum, 0.01)
                    return [p, s, b]
                }
            }
        }
    }

    /// A variant wider than the processor has is lowered to the widest it has.
    func testAskingForMoreThanIsSupportedIsLowered() {
        canopy_vectors_use(canopy_vectors_avx512)
        XCTAssertEqual(canopy_vectors_in_use(), canopy_vectors_supported())
        canopy_vectors_use(canopy_vectors_baseline)
        XCTAssertEqual(canopy_vectors_in_use(), canopy_vectors_baseline)
    }
}

/// Every variant of the C kernels this processor can run, narrowest first.
func supportedVectorVariants() -> [canopy_vectors] {
    let supported = canopy_vectors_supported()
    return [canopy_vectors_baseline, canopy_vectors_avx2, canopy_vectors_avx512].filter { $0.rawValue <= supported.rawValue }
}
