import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// Multi-threaded kernels give bit-identical results run twice, and with one thread or two.
final class DeterminismTests: XCTestCase {
    /// Calls big enough to take the multi-threaded paths (more than 2 × 32768 elements or rows of work).
    static func largeCalls() -> [KernelCall] {
        [
            KernelCalls.sum(count: 1_000_003, squares: false, seed: 1),
            KernelCalls.sum(count: 300_001, squares: true, seed: 2),
            KernelCalls.softmax(rows: 300, cols: 1000, log: false, seed: 3),
            KernelCalls.softmaxCrossEntropy(rows: 2000, classes: 100, seed: 4),
            KernelCalls.biasGradient(outer: 512, channels: 300, inner: 1, seed: 5),
            KernelCalls.biasGradient(outer: 16, channels: 32, inner: 400, seed: 6),
            KernelCalls.maskedMean(rows: 100_000, seed: 7),
            KernelCalls.unary(.gelu, count: 200_000, seed: 8),
            KernelCalls.adamUpdate(count: 100_000, step: 5, seed: 9),
            KernelCalls.conv2d(ConvGeometry(batch: 8, inChannels: 4, inHeight: 28, inWidth: 28, outChannels: 8,
                                            kernelHeight: 3, kernelWidth: 3, padHeight: 1, padWidth: 1), seed: 10),
            KernelCalls.conv2dBackwardInput(ConvGeometry(batch: 8, inChannels: 4, inHeight: 28, inWidth: 28,
                                                         outChannels: 8, kernelHeight: 3, kernelWidth: 3,
                                                         strideHeight: 2, strideWidth: 2, padHeight: 1, padWidth: 1),
                                            seed: 11),
            KernelCalls.maxPoolBackward(PoolGeometry(batch: 16, channels: 8, inHeight: 32, inWidth: 32, kernel: 3,
                                                     stride: 2), seed: 12),
            KernelCalls.rowLoss(.binaryCrossEntropy(posWeight: 1), rows: 1000, cols: 100, seed: 13),
            KernelCalls.matmul(m: 300, n: 200, k: 256, transposeB: true, seed: 14),
            KernelCalls.copyBlock(rows: 3000, cols: 40, xStride: 40, xOffset: 0, yStride: 100, yOffset: 60, seed: 15),
            KernelCalls.mixture(rows: 1000, experts: 8, features: 64, seed: 16),
            KernelCalls.mixtureBackwardGates(rows: 1000, experts: 8, features: 64, seed: 17),
            KernelCalls.mixtureBackwardValues(rows: 1000, experts: 8, features: 64, seed: 18),
        ]
    }

    func testRepeatedRunsAreBitIdentical() throws {
        let cpu = CPUBackend(threads: 2)
        for call in Self.largeCalls() {
            let first = try call.run(on: cpu), second = try call.run(on: cpu)
            for name in call.outputs {
                assertClose(second[name]!, first[name]!, tolerance: .exact, "\(call.name) run twice: \(name)")
            }
        }
    }

    /// The thread count must not change any result, so one thread and two agree bit for bit: this is also a
    /// use of the parity helper with an exact tolerance.
    func testOneThreadAndTwoAgreeExactly() throws {
        let calls = Self.largeCalls() + KernelCalls.standard()
        let largest = compareAllKernels(on: CPUBackend(threads: 2), and: CPUBackend(threads: 1),
                                        calls: calls.map { var exact = $0; exact.tolerance = .exact; return exact },
                                        quiet: true)
        XCTAssertEqual(largest.count, Set(calls.map(\.name)).count)
        print("cpu 2 threads vs 1 thread over \(calls.count) calls: largest difference \(largest.values.max() ?? 0)")
    }

    /// The standard calls cover every kernel of the instruction set.
    func testStandardCallsCoverEveryKernel() throws {
        let cpu = CPUBackend()
        var names = Set<String>()
        for call in KernelCalls.standard() {
            var seen: String?
            var probe = call
            let make = call.makeKernel
            probe.makeKernel = { buffers in let kernel = try make(buffers); seen = kernel.name; return kernel }
            _ = try probe.run(on: cpu)
            names.insert(seen ?? "?")
        }
        XCTAssertEqual(names.count, kernelNameCount, "kernels covered: \(names.sorted())")
    }
}
