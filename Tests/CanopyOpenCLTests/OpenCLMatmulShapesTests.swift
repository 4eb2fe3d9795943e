import CanopyCore
import CanopyCPU
@testable import CanopyOpenCL
import CanopyTestSupport
import Foundation
import XCTest

/// The register-blocked products of CPU drivers (`canopy_matmul_nn`, `_tn` and `_nt` in matmul.cl) at the shapes
/// their edge handling has to get right: sizes 1, 5, 7, 10, 15, 16, 17, 33 and 129 around the blocks (8×16 and
/// 4×4) and the load width along k (16), W1's real shapes, every epilogue, and batched products with offsets,
/// strides and a bias by row, against the CPU backend or a reference computed here.
final class OpenCLMatmulShapesTests: XCTestCase {
    /// A backend of its own with CPU-style tunables (the register-blocked kernels and the NT kernel), no disk cache.
    private func backend() throws -> OpenCLBackend {
        let shared = try OpenCLTesting.backend()
        var options = OpenCLBackendOptions.environment()
        options.cacheDirectory = nil
        let backend = try OpenCLBackend(device: .index(shared.deviceInfo.index), options: options, tunables: nil)
        backend.tunables = CLTunables(info: backend.deviceInfo, profile: .cpu)
        XCTAssertFalse(try backend.usesTiledMatmul(), "CPU-style tunables run the register-blocked kernels")
        return backend
    }

    private static let storages = [(false, false), (true, false), (false, true), (true, true)]

    func testEveryStorageAtAwkwardSizesMatchesCPU() throws {
        let openCL = try backend()
        let sides = [1, 5, 10, 16, 17, 129]
        var calls: [KernelCall] = []
        for m in sides {
            for n in sides {
                for k in [1, 7, 15, 16, 17, 33] {
                    // One storage per shape (cycling), both beta cases: every storage meets every edge.
                    let (ta, tb) = Self.storages[(m + 2 * n + k) % 4]
                    calls.append(KernelCalls.matmul(m: m, n: n, k: k, transposeA: ta, transposeB: tb, seed: 31))
                    calls.append(KernelCalls.matmul(m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                                                    alpha: -0.75, beta: 0.5, seed: 32))
                }
            }
        }
        for (m, n, k) in [(7, 33, 129), (129, 15, 7), (15, 129, 33), (33, 7, 15)] {
            for (ta, tb) in Self.storages {
                calls.append(KernelCalls.matmul(m: m, n: n, k: k, transposeA: ta, transposeB: tb, beta: 1, seed: 33))
            }
        }
        let largest = compareAllKernels(on: openCL, and: CPUBackend(), calls: calls, quiet: true)
        print("awkward sizes: \(largest.count) calls, largest absolute difference \(largest.values.max() ?? 0)")
    }

    /// W1 (MLP 784→512→256, heads 10 and 5, batch 128): each layer's forward (NT), dX (NN) and dW (TN) product.
    func testW1ShapesMatchCPU() throws {
        let openCL = try backend()
        var calls: [KernelCall] = []
        for (inputs, outputs) in [(784, 512), (512, 256), (256, 10), (256, 5)] {
            calls.append(KernelCalls.matmulBias(m: 128, n: outputs, k: inputs, transposeB: true, activation: .relu, seed: 34))
            calls.append(KernelCalls.matmul(m: 128, n: inputs, k: outputs, seed: 35))
            calls.append(KernelCalls.matmul(m: outputs, n: inputs, k: 128, transposeA: true, beta: 1, seed: 36))
        }
        let largest = compareAllKernels(on: openCL, and: CPUBackend(), calls: calls, quiet: true)
        print("W1 shapes: \(largest.count) calls, largest absolute difference \(largest.values.max() ?? 0)")
    }

    func testEveryEpilogueAtNarrowShapesMatchesCPU() throws {
        let openCL = try backend()
        var calls: [KernelCall] = []
        for (m, n, k) in [(128, 10, 256), (128, 5, 256), (5, 17, 33), (33, 16, 17), (1, 1, 1), (129, 7, 16)] {
            for (ta, tb) in Self.storages {
                for activation in [nil] + UnaryFunction.allCases.map(Optional.some) {
                    calls.append(KernelCalls.matmulBias(m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                                                        activation: activation, seed: 37))
                }
            }
        }
        let largest = compareAllKernels(on: openCL, and: CPUBackend(), calls: calls, quiet: true)
        print("epilogues: \(largest.count) calls, largest absolute difference \(largest.values.max() ?? 0)")
    }

    /// Batched launches (what convolutions enqueue): matrices at offsets and strides (stride 0 shares one), a
    /// bias by row or by column at an offset and stride, beta 0 over NaN and beta 1, on each register-blocked
    /// kernel, against a reference computed here in double precision.
    func testBatchedProductsWithOffsetsStridesAndBiasByRowMatchAReference() throws {
        let openCL = try backend()
        var random = TestRandom(seed: 38)
        let batch = 3
        for (m, n, k) in [(5, 17, 33), (17, 5, 16), (10, 129, 7), (33, 10, 129), (1, 1, 1)] {
            for kernel in ["nn", "tn", "nt"] {
                for (byRow, activation, beta) in [(false, UnaryFunction?.none, Float(0)), (true, .relu, 0),
                                                  (true, .tanh, 1), (false, .relu, 1)] {
                    let offsets = (a: 3, b: 2, c: 5, bias: 1)
                    let strides = (a: m * k + 4, b: kernel == "nn" ? 0 : n * k + 1, c: m * n + 2, bias: (byRow ? m : n) + 3)
                    let a = random.floats(offsets.a + batch * strides.a)
                    let b = random.floats(offsets.b + max(1, batch * strides.b) + n * k)
                    let c0: [Float] = beta == 0 ? .nan(offsets.c + batch * strides.c) : random.floats(offsets.c + batch * strides.c)
                    let bias = random.floats(offsets.bias + batch * strides.bias)
                    let cBuffer = try openCL.makeBuffer(c0)
                    let operand = { (values: [Float], offset: Int, stride: Int) in
                        MatrixOperand(buffer: try openCL.own(try openCL.makeBuffer(values)), offset: offset, stride: stride)
                    }
                    let epilogue = ProductEpilogue(bias: try openCL.own(try openCL.makeBuffer(bias)), activation: activation,
                                                   byRow: byRow, offset: offsets.bias, stride: strides.bias)
                    let (left, right) = (try operand(a, offsets.a, strides.a), try operand(b, offsets.b, strides.b))
                    let out = MatrixOperand(buffer: try openCL.own(cBuffer), offset: offsets.c, stride: strides.c)
                    if kernel == "nt" {
                        try openCL.enqueueMatmulNT(m: m, n: n, k: k, alpha: 0.5, beta: beta, a: left, b: right, c: out,
                                                   batch: batch, epilogue: epilogue)
                    } else {
                        try openCL.enqueueMatmul(transposeA: kernel == "tn", m: m, n: n, k: k, alpha: 0.5, beta: beta,
                                                 a: left, b: right, c: out, batch: batch, epilogue: epilogue)
                    }
                    let got = try openCL.download(cBuffer)
                    let label = "\(kernel) \(m)×\(n)×\(k) byRow \(byRow) \(activation?.rawValue ?? "none") β=\(beta)"
                    var worst: Double = 0
                    for bi in 0..<batch {
                        for i in 0..<m {
                            for j in 0..<n {
                                var sum = 0.0
                                for p in 0..<k {
                                    let av = a[offsets.a + bi * strides.a + (kernel == "tn" ? p * m + i : i * k + p)]
                                    let bv = b[offsets.b + bi * strides.b + (kernel == "nt" ? j * k + p : p * n + j)]
                                    sum += Double(av) * Double(bv)
                                }
                                let at = offsets.c + bi * strides.c + i * n + j
                                var v = 0.5 * sum + (beta == 0 ? 0 : Double(beta) * Double(c0[at]))
                                v += Double(bias[offsets.bias + bi * strides.bias + (byRow ? i : j)])
                                switch activation {
                                case .relu?: v = max(0, v)
                                case .tanh?: v = Foundation.tanh(v)
                                default: break
                                }
                                let difference = abs(Double(got[at]) - v)
                                worst = difference.isNaN ? .infinity : max(worst, difference)
                            }
                        }
                    }
                    XCTAssertLessThan(worst, 1e-4, label)
                    // Elements between and around the matrices are never written.
                    for at in 0..<got.count where (at - offsets.c) % strides.c >= m * n || at < offsets.c {
                        XCTAssertEqual(got[at].bitPattern, c0[at].bitPattern, "\(label): element \(at) outside C changed")
                    }
                }
            }
        }
    }
}
