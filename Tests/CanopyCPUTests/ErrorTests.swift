import CanopyCore
import CanopyCPU
import XCTest

/// Bad calls throw errors that name the kernel; nothing crashes.
final class ErrorTests: XCTestCase {
    let cpu = CPUBackend()

    private final class ForeignBuffer: DeviceBuffer {
        let count = 100
    }

    private func assertInvalid(_ kernel: Kernel, mentioning text: String, line: UInt = #line) {
        XCTAssertThrowsError(try cpu.execute(kernel), line: line) { error in
            guard case let BackendError.invalidArguments(name, reason)? = error as? BackendError else {
                return XCTFail("expected invalidArguments, got \(error)", line: line)
            }
            XCTAssertEqual(name, kernel.name, line: line)
            XCTAssertTrue(reason.contains(text), "'\(reason)' does not mention '\(text)'", line: line)
        }
    }

    func testTooSmallBuffersAndBadSizes() throws {
        let small = try cpu.makeBuffer(count: 5), big = try cpu.makeBuffer(count: 100), other = try cpu.makeBuffer(count: 100)
        assertInvalid(.matmul(a: small, b: big, c: other, shape: MatmulShape(m: 3, n: 2, k: 2)), mentioning: "a holds 5")
        assertInvalid(.copy(x: big, y: small, count: 6), mentioning: "y holds 5")
        assertInvalid(.fill(y: big, value: 1, count: 0), mentioning: "count")
        assertInvalid(.softmax(x: big, y: other, rows: -1, cols: 3), mentioning: "rows")
        assertInvalid(.biasAdd(x: big, bias: small, y: other, outer: 2, channels: 6, inner: 1), mentioning: "bias")
        let conv = ConvGeometry(batch: 1, inChannels: 1, inHeight: 2, inWidth: 2, outChannels: 1, kernelHeight: 5,
                                kernelWidth: 1)
        assertInvalid(.conv2d(input: big, weight: other, output: small, geometry: conv), mentioning: "does not fit")
        let pool = PoolGeometry(batch: 1, channels: 1, inHeight: 3, inWidth: 3, kernel: 4, stride: 1)
        assertInvalid(.maxPool(input: big, output: other, indices: small, geometry: pool), mentioning: "kernel")
        assertInvalid(.dropout(x: big, y: other, mask: small, probability: 1, seed: 0, count: 5), mentioning: "probability")
        assertInvalid(.adamUpdate(param: big, grad: other, m: small, v: try cpu.makeBuffer(count: 5), count: 5,
                                  hyper: AdamHyperparameters(learningRate: 0.1, step: 0)), mentioning: "step")
        XCTAssertThrowsError(try cpu.makeBuffer(count: 0))
        let three: [Float] = [1, 2, 3]
        XCTAssertThrowsError(try three.withUnsafeBufferPointer { try cpu.upload($0, to: small, offset: 3) })
    }

    func testOutputsMustNotAliasInputs() throws {
        let x = try cpu.makeBuffer(count: 8), y = try cpu.makeBuffer(count: 8)
        assertInvalid(.scale(x: x, y: x, alpha: 2, count: 8), mentioning: "same buffer")
        assertInvalid(.sgdUpdate(param: x, grad: y, velocity: x, count: 8,
                                 hyper: SGDHyperparameters(learningRate: 0.1)), mentioning: "same buffer")
    }

    func testForeignBufferIsRejected() throws {
        let mine = try cpu.makeBuffer(count: 100)
        XCTAssertThrowsError(try cpu.execute(.copy(x: ForeignBuffer(), y: mine, count: 3))) { error in
            XCTAssertEqual(error as? BackendError, .foreignBuffer(backend: "cpu"))
        }
        XCTAssertThrowsError(try cpu.download(ForeignBuffer())) { error in
            XCTAssertEqual(error as? BackendError, .foreignBuffer(backend: "cpu"))
        }
    }

    /// Out-of-range labels and pooling indices are caught before anything is written.
    func testBadLabelsAndIndicesThrow() throws {
        let logits = try cpu.makeBuffer(count: 6), probs = try cpu.makeBuffer(count: 6), loss = try cpu.makeBuffer(count: 2)
        let mask = try cpu.makeBuffer([1, 1])
        for bad: Float in [3, -1, 0.5, .nan] {
            let labels = try cpu.makeBuffer([0, bad])
            assertInvalid(.softmaxCrossEntropy(logits: logits, labels: labels, mask: mask, probs: probs, rowLoss: loss,
                                               rows: 2, classes: 3), mentioning: "labels[1]")
        }
        let pool = PoolGeometry(batch: 1, channels: 1, inHeight: 2, inWidth: 2, kernel: 2, stride: 2)
        let dx = try cpu.makeBuffer([7, 7, 7, 7])
        assertInvalid(.maxPoolBackward(dOutput: try cpu.makeBuffer([1]), indices: try cpu.makeBuffer([4]), dInput: dx,
                                       geometry: pool), mentioning: "indices[0]")
        XCTAssertEqual(try cpu.download(dx), [7, 7, 7, 7], "a failed call wrote its output")
    }
}
