import CanopyCore
import CanopyCPU
import CanopyOpenCL
import CanopyTestSupport
import XCTest

/// copyBlock and the mixture kernels on OpenCL against the CPU backend at awkward sizes, with both tuning
/// families, plus the guarantee that a block copy leaves everything outside its block untouched.
final class OpenCLMixtureTests: XCTestCase {
    /// Every combination of rows 1, 7, 33, 129; experts 1, 3, 8; features 1, 5, 64, 129.
    static func mixtureCalls(seed: UInt64) -> [KernelCall] {
        var calls: [KernelCall] = []
        for rows in [1, 7, 33, 129] {
            for experts in [1, 3, 8] {
                for features in [1, 5, 64, 129] {
                    calls += [
                        KernelCalls.mixture(rows: rows, experts: experts, features: features, seed: seed),
                        KernelCalls.mixtureBackwardGates(rows: rows, experts: experts, features: features, seed: seed),
                        KernelCalls.mixtureBackwardValues(rows: rows, experts: experts, features: features, seed: seed),
                        KernelCalls.mixtureBackwardValues(rows: rows, experts: experts, features: features,
                                                          accumulate: true, seed: seed),
                        KernelCalls.mixtureSoftmax(rows: rows, experts: experts, features: features, seed: seed),
                        KernelCalls.mixtureBackwardLogits(rows: rows, experts: experts, features: features, seed: seed),
                    ]
                }
            }
        }
        // Long feature rows: teams of work-items per (sample, expert) row in the gates gradient.
        calls.append(KernelCalls.mixtureBackwardGates(rows: 2, experts: 3, features: 1031, seed: seed))
        calls.append(KernelCalls.mixture(rows: 3, experts: 2, features: 1031, seed: seed))
        calls.append(KernelCalls.mixtureSoftmax(rows: 3, experts: 2, features: 1031, seed: seed))
        calls.append(KernelCalls.mixtureBackwardLogits(rows: 2, experts: 3, features: 1031, seed: seed))
        // Many experts: a gate row longer than a team (softmax over 300 logits) and a loop of 300 team sums.
        calls.append(KernelCalls.mixtureSoftmax(rows: 5, experts: 300, features: 3, seed: seed))
        calls.append(KernelCalls.mixtureSoftmax(rows: 7, experts: 129, features: 33, seed: seed))   // one sample a group
        calls.append(KernelCalls.mixtureBackwardLogits(rows: 5, experts: 300, features: 3, seed: seed))
        return calls
    }

    /// (rows, cols, xStride, xOffset, yStride, yOffset): one element; one row with strides far beyond cols;
    /// concatenation parts and slices at offsets; blocks wider and taller than a work-group.
    static let blockShapes: [(rows: Int, cols: Int, xStride: Int, xOffset: Int, yStride: Int, yOffset: Int)] = [
        (1, 1, 1, 0, 1, 0), (1, 1, 9, 4, 13, 6), (1, 129, 300, 17, 200, 33), (7, 5, 5, 0, 12, 7),
        (7, 5, 12, 7, 5, 0), (33, 64, 100, 3, 64, 0), (129, 1, 3, 2, 7, 6), (129, 129, 131, 1, 258, 129),
        (3, 1000, 1000, 0, 2001, 1000), (1000, 3, 3, 0, 10, 4),
    ]

    func testMixtureMatchesCPU() throws {
        let openCL = try OpenCLTesting.backend()
        let calls = Self.mixtureCalls(seed: 31)
        let largest = compareAllKernels(on: openCL, and: CPUBackend(), calls: calls, quiet: true)
        XCTAssertEqual(largest.count, calls.count)
        print("mixture parity on \(openCL.deviceDescription): \(calls.count) calls, largest absolute difference "
              + "\(largest.values.max() ?? .infinity)")
    }

    /// The same calls with the other family's tunables (on a CPU driver: teams from 32 features in the gates
    /// gradient, several rows per work-group).
    func testMixtureWithOtherTuningMatchesCPU() throws {
        let openCL = try OpenCLTesting.backendWithOtherTuning()
        let calls = Self.mixtureCalls(seed: 32)
        let largest = compareAllKernels(on: openCL, and: CPUBackend(), calls: calls, quiet: true)
        XCTAssertEqual(largest.count, calls.count)
        print("mixture parity, other tuning: \(calls.count) calls, largest absolute difference "
              + "\(largest.values.max() ?? .infinity)")
    }

    func testCopyBlockMatchesCPU() throws {
        for backend in [try OpenCLTesting.backend(), try OpenCLTesting.backendWithOtherTuning()] {
            let calls = Self.blockShapes.map {
                KernelCalls.copyBlock(rows: $0.rows, cols: $0.cols, xStride: $0.xStride, xOffset: $0.xOffset,
                                      yStride: $0.yStride, yOffset: $0.yOffset, seed: 33)
            }
            let largest = compareAllKernels(on: backend, and: CPUBackend(), calls: calls, quiet: true)
            print("copyBlock parity: \(calls.count) calls, largest absolute difference \(largest.values.max() ?? .infinity)")
        }
    }

    /// The destination is NaN everywhere (with a payload, to tell it from any NaN a kernel might compute): the
    /// block must hold x's values exactly and every other element must keep its bit pattern.
    func testCopyBlockLeavesEverythingOutsideTheBlockUntouched() throws {
        let openCL = try OpenCLTesting.backend()
        let marker = Float(bitPattern: 0x7FC0_1234)
        var random = TestRandom(seed: 34)
        for s in Self.blockShapes {
            let xCount = KernelCalls.blockExtent(rows: s.rows, cols: s.cols, stride: s.xStride, offset: s.xOffset)
            let yCount = KernelCalls.blockExtent(rows: s.rows, cols: s.cols, stride: s.yStride, offset: s.yOffset) + 9
            let xValues = random.floats(xCount)
            let x = try openCL.makeBuffer(xValues)
            let y = try openCL.makeBuffer([Float](repeating: marker, count: yCount))
            try openCL.execute(.copyBlock(x: x, y: y, rows: s.rows, cols: s.cols, xStride: s.xStride, xOffset: s.xOffset,
                                          yStride: s.yStride, yOffset: s.yOffset))
            let got = try openCL.download(y)
            var wrongInside = 0, touchedOutside = 0
            var inBlock = [Bool](repeating: false, count: yCount)
            for r in 0..<s.rows {
                for c in 0..<s.cols {
                    let target = r * s.yStride + s.yOffset + c
                    inBlock[target] = true
                    if got[target].bitPattern != xValues[r * s.xStride + s.xOffset + c].bitPattern { wrongInside += 1 }
                }
            }
            for i in 0..<yCount where !inBlock[i] && got[i].bitPattern != marker.bitPattern { touchedOutside += 1 }
            print("copyBlock \(s) on opencl: \(wrongInside) wrong in the block, \(touchedOutside) of "
                  + "\(yCount - s.rows * s.cols) outside elements changed")
            XCTAssertEqual(wrongInside, 0, "copyBlock \(s): block values")
            XCTAssertEqual(touchedOutside, 0, "copyBlock \(s): elements outside the block were written")
        }
    }

    func testBadCallsAreErrorValues() throws {
        let openCL = try OpenCLTesting.backend()
        let x = try openCL.makeBuffer(count: 20), y = try openCL.makeBuffer([Float](repeating: 7, count: 20))
        func assertInvalid(_ kernel: Kernel, mentioning text: String, line: UInt = #line) {
            XCTAssertThrowsError(try openCL.execute(kernel), line: line) { error in
                guard case let BackendError.invalidArguments(name, reason)? = error as? BackendError else {
                    return XCTFail("expected invalidArguments, got \(error)", line: line)
                }
                XCTAssertEqual(name, kernel.name, line: line)
                XCTAssertTrue(reason.contains(text), "'\(reason)' does not mention '\(text)'", line: line)
            }
        }
        func block(rows: Int = 2, xStride: Int = 4, xOffset: Int = 0, yStride: Int = 4, yOffset: Int = 0,
                   x xBuffer: DeviceBuffer? = nil) -> Kernel {
            .copyBlock(x: xBuffer ?? x, y: y, rows: rows, cols: 3, xStride: xStride, xOffset: xOffset,
                       yStride: yStride, yOffset: yOffset)
        }
        assertInvalid(block(xStride: 2), mentioning: "xStride")
        assertInvalid(block(yStride: 1), mentioning: "yStride")
        assertInvalid(block(xOffset: -1), mentioning: "xOffset")
        assertInvalid(block(rows: 0), mentioning: "rows")
        assertInvalid(block(rows: 5, yOffset: 2), mentioning: "y holds 20")
        assertInvalid(block(rows: Int.max / 2, xStride: 8), mentioning: "overflow")
        assertInvalid(block(x: y), mentioning: "same buffer")
        let gates = try openCL.makeBuffer(count: 6), values = try openCL.makeBuffer(count: 24)
        assertInvalid(.mixture(gates: gates, values: values, y: y, rows: 2, experts: 3, features: 5), mentioning: "values")
        assertInvalid(.mixture(gates: gates, values: values, y: values, rows: 2, experts: 3, features: 4),
                      mentioning: "same buffer")
        assertInvalid(.mixtureBackwardGates(values: values, dy: y, dGates: gates, rows: 1 << 40, experts: 1 << 30,
                                            features: 1), mentioning: "overflow")
        assertInvalid(.mixtureBackwardValues(gates: gates, dy: y, dValues: values, rows: 2, experts: 0, features: 4),
                      mentioning: "experts")
        XCTAssertEqual(try openCL.download(y), [Float](repeating: 7, count: 20), "a failed call wrote to y")
    }
}
