import CanopyCore
import CanopyCPU
import CanopyOpenCL
import CanopyTestSupport
import XCTest

/// Every kernel on OpenCL against the CPU backend, forward and backward, at awkward sizes: 1, 7, 33, 129 and
/// sizes that are not multiples of the register blocks (8×16 on CPUs, 4×4 on GPUs) or of the work-groups.
/// Each comparison prints its largest absolute and relative difference.
final class OpenCLParityTests: XCTestCase {
    func testStandardCallsMatchCPU() throws {
        let openCL = try OpenCLTesting.backend()
        print("OpenCL device: \(openCL.deviceDescription)")
        let largest = compareAllKernels(on: openCL, and: CPUBackend())
        XCTAssertGreaterThan(largest.count, 80, "the standard list should cover every kernel")
        print("standard parity: \(largest.count) calls, largest absolute difference \(largest.values.max() ?? 0)")
    }

    /// The standard calls again with the other family's tunables (on a CPU driver: 4×4 register blocks,
    /// float4 reductions, row teams from 32 columns, the tiled transpose).
    func testStandardCallsWithOtherTuningMatchCPU() throws {
        let openCL = try OpenCLTesting.backendWithOtherTuning()
        let calls = KernelCalls.standard(seed: 2) + [
            KernelCalls.matmul(m: 33, n: 17, k: 9, transposeB: true, alpha: 2, beta: -1, seed: 3),
            KernelCalls.matmul(m: 40, n: 36, k: 20, transposeA: true, transposeB: true, seed: 3),
            KernelCalls.softmax(rows: 5, cols: 300, log: true, seed: 3),
            KernelCalls.softmaxCrossEntropy(rows: 70, classes: 40, seed: 3),
            KernelCalls.biasGradient(outer: 2, channels: 3, inner: 100, seed: 3),
        ]
        let largest = compareAllKernels(on: openCL, and: CPUBackend(), calls: calls, quiet: true)
        print("other tuning parity: \(largest.count) calls, largest absolute difference \(largest.values.max() ?? 0)")
    }

    func testMatmulBlocksAndEdgesMatchCPU() throws {
        let openCL = try OpenCLTesting.backend()
        var calls: [KernelCall] = []
        // Exactly one block, blocks plus ragged edges on both sides, long k, and a wide product.
        for (m, n, k) in [(8, 16, 1), (16, 32, 7), (33, 129, 7), (129, 33, 65), (64, 64, 64), (3, 200, 17)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                calls.append(KernelCalls.matmul(m: m, n: n, k: k, transposeA: ta, transposeB: tb, seed: 7))
                calls.append(KernelCalls.matmul(m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                                                alpha: -0.75, beta: 0.5, seed: 8))
            }
        }
        compareAllKernels(on: openCL, and: CPUBackend(), calls: calls)
    }

    func testConvolutionAndPoolingGeometriesMatchCPU() throws {
        let openCL = try OpenCLTesting.backend()
        let geometries = [
            // kernel 5, padding 2, stride 1, non-square input
            ConvGeometry(batch: 2, inChannels: 3, inHeight: 9, inWidth: 7, outChannels: 4, kernelHeight: 5,
                         kernelWidth: 5, padHeight: 2, padWidth: 2),
            // 1×1, stride 1, no padding: the pointwise path without im2col
            ConvGeometry(batch: 3, inChannels: 5, inHeight: 4, inWidth: 6, outChannels: 7, kernelHeight: 1,
                         kernelWidth: 1),
            // 1×1 with stride 2: im2col path
            ConvGeometry(batch: 2, inChannels: 3, inHeight: 7, inWidth: 5, outChannels: 2, kernelHeight: 1,
                         kernelWidth: 1, strideHeight: 2, strideWidth: 2),
            // 3×3, stride 2, padding 2, non-square everything
            ConvGeometry(batch: 2, inChannels: 2, inHeight: 8, inWidth: 11, outChannels: 3, kernelHeight: 3,
                         kernelWidth: 3, strideHeight: 2, strideWidth: 2, padHeight: 2, padWidth: 2),
            // unequal strides and paddings, 5×3 kernel
            ConvGeometry(batch: 1, inChannels: 4, inHeight: 10, inWidth: 9, outChannels: 5, kernelHeight: 5,
                         kernelWidth: 3, strideHeight: 1, strideWidth: 2, padHeight: 0, padWidth: 1),
        ]
        var calls = geometries.flatMap { KernelCalls.convolutionPasses($0, seed: 3) }
        let pools = [
            PoolGeometry(batch: 2, channels: 3, inHeight: 7, inWidth: 9, kernel: 3, stride: 1),   // overlapping
            PoolGeometry(batch: 1, channels: 2, inHeight: 11, inWidth: 8, kernel: 2, stride: 3),  // gaps
            PoolGeometry(batch: 3, channels: 1, inHeight: 5, inWidth: 5, kernel: 5, stride: 2),   // one window
        ]
        for g in pools { calls += [KernelCalls.maxPool(g, seed: 6), KernelCalls.maxPoolBackward(g, seed: 6)] }
        compareAllKernels(on: openCL, and: CPUBackend(), calls: calls)
    }

    /// Rows long enough for a team of work-items per row (the one-row-per-work-item path is in the standard list).
    func testLongRowsMatchCPU() throws {
        let openCL = try OpenCLTesting.backend()
        var calls: [KernelCall] = []
        for (rows, cols) in [(3, 600), (2, 1031)] {
            for log in [false, true] {
                calls.append(KernelCalls.softmax(rows: rows, cols: cols, log: log, scale: 5, seed: 9))
                calls.append(KernelCalls.softmaxBackward(rows: rows, cols: cols, log: log, seed: 9))
            }
            calls.append(KernelCalls.softmaxCrossEntropy(rows: rows, classes: cols, seed: 10))
            calls.append(KernelCalls.softmaxCrossEntropyBackward(rows: rows, classes: cols, seed: 10))
            for loss in RowLossUnderTest.all {
                calls.append(KernelCalls.rowLoss(loss, rows: rows, cols: cols, seed: 11))
            }
        }
        calls.append(KernelCalls.biasGradient(outer: 3, channels: 5, inner: 777, seed: 12))
        calls.append(KernelCalls.biasAdd(outer: 3, channels: 5, inner: 777, seed: 12))
        calls.append(KernelCalls.maskedMean(rows: 5000, seed: 13))
        compareAllKernels(on: openCL, and: CPUBackend(), calls: calls)
    }

    func testElementwiseAtEdgeSizesMatchCPU() throws {
        let openCL = try OpenCLTesting.backend()
        var calls: [KernelCall] = []
        // 1, 7, 9 and 257 elements: optimizer kernels update 8 per work-item, with a partial last vector.
        for count in [1, 7, 9, 257] {
            for function in UnaryFunction.allCases {
                calls += [KernelCalls.unary(function, count: count, seed: 14),
                          KernelCalls.unaryBackward(function, count: count, seed: 14)]
            }
            calls += [KernelCalls.sum(count: count, squares: false), KernelCalls.sum(count: count, squares: true)]
            calls.append(KernelCalls.sgdUpdate(count: count, seed: 15))
            calls.append(KernelCalls.adamUpdate(count: count, step: 1, seed: 15))
            calls += [KernelCalls.rmspropUpdate(count: count, momentum: 0, seed: 16),
                      KernelCalls.rmspropUpdate(count: count, momentum: 0.9, seed: 16)]
        }
        calls += [KernelCalls.sum(count: 1 << 20, squares: true), KernelCalls.sum(count: 65_537, squares: false)]
        calls += [KernelCalls.dropout(count: 100_003, probability: 0.5, seed: 0xdead_beef),
                  KernelCalls.dropout(count: 33, probability: 0.96875, seed: 5),
                  KernelCalls.dropout(count: 129, probability: 0.25, seed: 9, firstIndex: 4_000_000_007)]
        compareAllKernels(on: openCL, and: CPUBackend(), calls: calls)
    }

    /// The dropout mask is specified bit for bit: check it against `DropoutRandom` directly too.
    func testDropoutMaskIsBitIdenticalToDropoutRandom() throws {
        let backend = try OpenCLTesting.backend()
        let count = 4099, p: Float = 0.3, seed: UInt32 = 123_456_789
        let x = try backend.makeBuffer([Float](repeating: 1, count: count))
        let y = try backend.makeBuffer(count: count), mask = try backend.makeBuffer(count: count)
        var mismatches = 0
        // From the start, and as the rows of a larger tensor that start at element 1000 (a data-parallel shard).
        for firstIndex in [0, 1000] {
            try backend.execute(.dropout(x: x, y: y, mask: mask, probability: p, seed: seed, count: count,
                                         firstIndex: firstIndex))
            let got = try backend.download(mask)
            for i in 0..<count {
                let u = DropoutRandom.uniform(seed: seed, index: UInt32(firstIndex + i))
                let expected: Float = u < p ? 0 : 1 / (1 - p)
                if got[i].bitPattern != expected.bitPattern { mismatches += 1 }
            }
        }
        print("dropout mask: \(mismatches) of \(count) elements differ from DropoutRandom")
        XCTAssertEqual(mismatches, 0)
    }
}
