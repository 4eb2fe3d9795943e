import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// Every kernel's contract on the CPU backend: each buffer one element too small, each written buffer aliased to
/// another operand, and the valid call, for every call of ``KernelCalls/standard(seed:)``.
final class KernelContractTests: XCTestCase {
    func testEveryKernelChecksItsContract() throws {
        let coverage = try checkKernelContracts(on: CPUBackend())
        print("cpu contracts: \(coverage.calls) calls, \(coverage.kernels.count) kernels, "
              + "\(coverage.shrunkRoles.count) roles shrunk, \(coverage.aliasedKernels.count) kernels aliased")
        XCTAssertEqual(coverage.kernels.count, kernelNameCount, "kernels covered: \(coverage.kernels.sorted())")
        XCTAssertEqual(coverage.shrunkRoles, coverage.declaredRoles)
        // fill writes its only operand: nothing to alias.
        XCTAssertEqual(coverage.aliasedKernels, coverage.kernels.subtracting(["fill"]))
    }

    /// The contract itself, on buffers of no backend: a dropped count check or alias check would fail here.
    func testContractRulesWithoutABackend() throws {
        let seven = DetachedBuffer(count: 7), six = DetachedBuffer(count: 6), other = DetachedBuffer(count: 7)
        XCTAssertNoThrow(try Kernel.copy(x: seven, y: other, count: 7).validate())
        XCTAssertThrowsError(try Kernel.copy(x: six, y: other, count: 7).validate()) { error in
            XCTAssertEqual(error as? BackendError,
                           .invalidArguments(kernel: "copy", reason: "x holds 6 elements but the call needs 7"))
        }
        XCTAssertThrowsError(try Kernel.copy(x: seven, y: seven, count: 7).validate()) { error in
            XCTAssertTrue("\(error)".contains("y and x are the same buffer"), "\(error)")
        }
        // Reading one buffer twice is fine; only written buffers must be unique.
        XCTAssertNoThrow(try Kernel.binary(.multiply, a: seven, b: seven, y: other, count: 7).validate())
        let contract = try Kernel.sgdUpdate(param: seven, grad: six, velocity: other, count: 6,
                                            hyper: SGDHyperparameters(learningRate: 0.1)).validate()
        XCTAssertEqual(contract.map(\.role), ["param", "grad", "velocity"])
        XCTAssertEqual(contract.map(\.access), [.readWrite, .read, .readWrite])
        XCTAssertEqual(try Kernel.unaryBackward(.tanh, x: seven, y: seven, dy: six, dx: other,
                                                count: 6).validate().map(\.role), ["x", "y", "dy", "dx"])
    }

    /// Size rules: non-positive sizes, overflow, geometry that does not fit, strides, offsets, probabilities.
    func testSizeRules() {
        let b = DetachedBuffer(count: 100), c = DetachedBuffer(count: 100), d = DetachedBuffer(count: 100)
        func reason(_ kernel: Kernel) -> String {
            do { try kernel.validate(); return "no error" } catch { return "\(error)" }
        }
        let conv = { (h: Int, pad: Int, stride: Int) in
            ConvGeometry(batch: 1, inChannels: 1, inHeight: h, inWidth: 4, outChannels: 1, kernelHeight: 3,
                         kernelWidth: 3, strideHeight: stride, padHeight: pad)
        }
        let cases: [(Kernel, String)] = [
            (.fill(y: b, value: 0, count: 0), "count must be at least 1, got 0"),
            (.matmul(a: b, b: c, c: d, shape: MatmulShape(m: 1 << 40, n: 1 << 40, k: 1)), "overflow"),
            (.conv2d(input: b, weight: c, output: d, geometry: conv(1, 0, 1)), "does not fit"),
            (.conv2d(input: b, weight: c, output: d, geometry: conv(4, -1, 1)), "padHeight must be at least 0"),
            (.conv2d(input: b, weight: c, output: d, geometry: conv(4, Int.max / 2 + 1, 1)), "overflow"),
            (.conv2d(input: b, weight: c, output: d, geometry: conv(4, 0, 0)), "strideHeight must be at least 1"),
            (.maxPool(input: b, output: c, indices: d, geometry: PoolGeometry(batch: 1, channels: 1, inHeight: 3,
                                                                               inWidth: 5, kernel: 4, stride: 1)),
             "kernel 4 is larger than the 3×5 input"),
            (.copyBlock(x: b, y: c, rows: 2, cols: 3, xStride: 2, xOffset: 0, yStride: 3, yOffset: 0),
             "xStride must be at least 3"),
            (.copyBlock(x: b, y: c, rows: 2, cols: 3, xStride: 3, xOffset: 0, yStride: 3, yOffset: -1),
             "yOffset must be at least 0"),
            (.dropout(x: b, y: c, mask: d, probability: 1, seed: 0, count: 5), "probability must be in [0, 1)"),
            (.dropout(x: b, y: c, mask: d, probability: .nan, seed: 0, count: 5), "probability must be in [0, 1)"),
            (.dropout(x: b, y: c, mask: d, probability: -0.1, seed: 0, count: 5), "probability must be in [0, 1)"),
            (.adamUpdate(param: b, grad: c, m: d, v: DetachedBuffer(count: 5), count: 5,
                         hyper: AdamHyperparameters(learningRate: 0.1, step: 0)), "hyper.step must be at least 1"),
            (.mixture(gates: b, values: c, y: d, rows: 1 << 40, experts: 1 << 30, features: 1), "overflow"),
        ]
        for (kernel, text) in cases {
            let message = reason(kernel)
            XCTAssertTrue(message.contains(text) && message.contains("'\(kernel.name)'"),
                          "\(kernel.name): '\(message)' does not mention '\(text)'")
        }
    }
}
