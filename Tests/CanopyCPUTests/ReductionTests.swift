import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// Sums stay accurate where a running float32 sum drifts, and reductions match double-precision references.
final class ReductionTests: XCTestCase {
    let cpu = CPUBackend()

    /// A running float32 sum of a million 0.1s ends near 100958; the pairwise sum must stay within 1e-6 relative.
    func testLongSumsStayAccurate() throws {
        let count = 1_000_000
        let x = [Float](repeating: 0.1, count: count)
        let exact = Double(Float(0.1)) * Double(count)
        for squares in [false, true] {
            let call = KernelCall("sum", buffers: ["x": x, "y": .nan(1)], outputs: ["y"]) {
                squares ? .sumOfSquares(x: try $0["x"], y: try $0["y"], count: count)
                    : .sum(x: try $0["x"], y: try $0["y"], count: count)
            }
            let expected = squares ? Double(Float(0.1) * Float(0.1)) * Double(count) : exact
            let value = try call.run(on: cpu)["y"]![0]
            print("\(squares ? "sumOfSquares" : "sum") of 10⁶ × 0.1: \(value), relative error \(abs(Double(value) - expected) / expected)")
            XCTAssertEqual(Double(value), expected, accuracy: expected * 1e-6)
        }
    }

    func testBiasGradientAndMaskedMeanAgainstNaive() throws {
        for (outer, channels, inner) in [(7, 33, 1), (3, 5, 49), (129, 2, 3)] {
            let call = KernelCalls.biasGradient(outer: outer, channels: channels, inner: inner, seed: 21)
            let dy = call.values("dy")
            var expected = [Double](repeating: 0, count: channels)
            for o in 0..<outer {
                for c in 0..<channels {
                    for i in 0..<inner { expected[c] += Double(dy[(o * channels + c) * inner + i]) }
                }
            }
            assertClose(try call.run(on: cpu)["dBias"]!, expected.map(Float.init), tolerance: .float32, call.name)
        }
        let call = KernelCalls.maskedMean(rows: 129, seed: 22)
        let rowLoss = call.values("rowLoss"), mask = call.values("mask")
        let labelled = mask.reduce(0, +)
        let mean = rowLoss.reduce(0.0) { $0 + Double($1) } / Double(labelled)
        let result = try call.run(on: cpu)
        XCTAssertEqual(result["count"]!, [labelled])
        assertClose(result["loss"]!, [Float(mean)], tolerance: .float32, call.name)
    }
}
