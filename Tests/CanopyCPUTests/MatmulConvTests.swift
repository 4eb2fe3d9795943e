import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// Matrix products and convolutions against the naive double-precision references.
final class MatmulConvTests: XCTestCase {
    let cpu = CPUBackend()

    func testMatmulAllTransposesAgainstNaive() throws {
        var largest: Float = 0
        let sizes = [(1, 1, 1), (7, 7, 7), (33, 33, 33), (129, 33, 7), (7, 129, 33), (33, 7, 129), (5, 1, 9)]
        for (m, n, k) in sizes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(Float(1), Float(0)), (-0.5, 2), (2, 1)] {
                    let call = KernelCalls.matmul(m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                                                  alpha: alpha, beta: beta, seed: UInt64(m * 1000 + n * 10 + k))
                    let c = try call.run(on: cpu)["c"]!
                    let shape = MatmulShape(m: m, n: n, k: k, transposeA: ta, transposeB: tb, alpha: alpha, beta: beta)
                    let expected = Naive.matmul(a: call.values("a"), b: call.values("b"), c: call.values("c"), shape)
                    largest = max(largest, assertClose(c, expected, tolerance: KernelCalls.product, call.name).absolute)
                }
            }
        }
        let big = KernelCalls.matmul(m: 129, n: 129, k: 129, transposeA: true)
        let expected = Naive.matmul(a: big.values("a"), b: big.values("b"), c: big.values("c"),
                                    MatmulShape(m: 129, n: 129, k: 129, transposeA: true))
        largest = max(largest, assertClose(try big.run(on: cpu)["c"]!, expected, tolerance: KernelCalls.product,
                                           big.name).absolute)
        print("matmul vs naive: largest abs diff \(largest)")
    }

    /// C starts as NaN (KernelCalls does that for beta = 0); the result must not contain a NaN.
    func testMatmulWithZeroBetaIgnoresNaNInC() throws {
        for alpha in [Float(1), 0] {
            let call = KernelCalls.matmul(m: 7, n: 5, k: 3, alpha: alpha, beta: 0)
            XCTAssertTrue(call.values("c").allSatisfy(\.isNaN))
            let c = try call.run(on: cpu)["c"]!
            XCTAssertFalse(c.contains { $0.isNaN }, "alpha \(alpha): NaN leaked from C with beta = 0")
        }
    }

    static let geometries: [ConvGeometry] = KernelCalls.convGeometries + [
        ConvGeometry(batch: 4, inChannels: 3, inHeight: 12, inWidth: 11, outChannels: 8, kernelHeight: 5,
                     kernelWidth: 5, strideHeight: 2, strideWidth: 2, padHeight: 2, padWidth: 2),
        ConvGeometry(batch: 1, inChannels: 4, inHeight: 6, inWidth: 9, outChannels: 3, kernelHeight: 2,
                     kernelWidth: 4, strideHeight: 3, strideWidth: 1, padHeight: 0, padWidth: 3),
        ConvGeometry(batch: 5, inChannels: 1, inHeight: 8, inWidth: 8, outChannels: 16, kernelHeight: 3,
                     kernelWidth: 3, padHeight: 1, padWidth: 1),
    ]

    func testConvolutionAgainstNaive() throws {
        var largest: Float = 0
        for g in Self.geometries {
            largest = max(largest, try checkConvolutionPasses(g, on: cpu))
        }
        print("conv2d (3 kernels) vs naive: largest abs diff \(largest)")
    }

    /// With a small column budget a batch of 5 goes in groups of 2, 2 and 1 images (the weight gradient
    /// accumulating over groups with beta = 1), and with a tiny one image by image.
    func testConvolutionInSeveralImageGroups() throws {
        let g = ConvGeometry(batch: 5, inChannels: 2, inHeight: 6, inWidth: 7, outChannels: 3, kernelHeight: 3,
                             kernelWidth: 3, padHeight: 1, padWidth: 1)
        var largest: Float = 0
        for budget in [2 * 18 * 42, 1] {
            largest = max(largest, try checkConvolutionPasses(g, on: CPUBackend(columnBudget: budget)))
        }
        print("conv2d in image groups vs naive: largest abs diff \(largest)")
    }
}
