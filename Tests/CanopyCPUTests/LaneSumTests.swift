import CanopyCore
import CCPUKernels
import CanopyTestSupport
import XCTest
@testable import CanopyCPU

/// The vector kernels give exactly the scalar definitions' bits: the C kernels' dot products and column sums (16
/// columns at a time) equal Swift's scalar pairwise sums on every instruction set, and a dense layer's bias
/// gradient equals per-channel sums.
final class LaneSumTests: XCTestCase {
    func testCSumsHaveTheScalarSumsBitsOnEveryVariant() {
        defer { canopy_vectors_use(canopy_vectors_supported()) }
        var random = TestRandom(seed: 21)
        for variant in supportedVectorVariants() {
            canopy_vectors_use(variant)
            for count in [0, 1, 7, 8, 9, 63, 64, 65, 129, 1000, 4099] {
                let a = random.floats(count).map { $0 * 1000 }, b = random.floats(count)
                let dot = canopy_dot(a, b, count), expected = pairwiseSum(count: count) { a[$0] * b[$0] }
                XCTAssertEqual(dot.bitPattern, expected.bitPattern, "dot of \(count), variant \(variant.rawValue)")
                let sum = canopy_sum(a, count), scalarSum = pairwiseSum(count: count) { a[$0] }
                XCTAssertEqual(sum.bitPattern, scalarSum.bitPattern, "sum of \(count), variant \(variant.rawValue)")
                // Columns of a count × 37 matrix: two blocks of 16 and 5 single columns.
                let columns = 37, matrix = random.floats(count * columns).map { $0 * 1000 }
                var sums = [Float](repeating: .nan, count: columns)
                canopy_column_sums(matrix, &sums, count, columns, columns)
                for c in 0..<columns {
                    let scalar = pairwiseSum(count: count) { matrix[$0 * columns + c] }
                    XCTAssertEqual(sums[c].bitPattern, scalar.bitPattern, "column \(c) of \(count) rows, variant \(variant.rawValue)")
                }
            }
        }
    }

    /// The sum kernels (C per chunk) give the Swift definition's bits: chunks of `sumChunk` terms summed pairwise,
    /// then the chunk sums pairwise; one chunk, several, and a short last chunk, on one thread and on two.
    func testSumKernelsHaveTheSwiftDefinitionsBits() throws {
        var random = TestRandom(seed: 23)
        for count in [1, 1000, CPUBackend.sumChunk, 3 * CPUBackend.sumChunk + 17] {
            let x = random.floats(count).map { $0 * 100 }
            for squares in [false, true] {
                let term: (Int) -> Float = squares ? { x[$0] * x[$0] } : { x[$0] }
                let chunk = CPUBackend.sumChunk, chunks = (count + chunk - 1) / chunk
                let partials = (0..<chunks).map { index in
                    pairwiseSum(count: min(chunk, count - index * chunk)) { term(index * chunk + $0) }
                }
                let expected = partials.withUnsafeBufferPointer { pairwiseSum($0.baseAddress!, count: chunks) }
                let call = KernelCall("sum", buffers: ["x": x, "y": .nan(1)], outputs: ["y"]) {
                    squares ? .sumOfSquares(x: try $0["x"], y: try $0["y"], count: count)
                        : .sum(x: try $0["x"], y: try $0["y"], count: count)
                }
                for threads in [1, 2] {
                    let got = try call.run(on: CPUBackend(threads: threads))["y"]![0]
                    XCTAssertEqual(got.bitPattern, expected.bitPattern, "\(squares ? "squares" : "sum") of \(count), \(threads) threads")
                }
            }
        }
    }

    func testDenseBiasGradientSumsEachChannelAsAlone() throws {
        let cpu = CPUBackend()
        var random = TestRandom(seed: 22)
        for (outer, channels) in [(1, 1), (7, 13), (129, 33), (512, 64), (3, 129)] {
            let dy = random.floats(outer * channels)
            let call = KernelCall("biasGradient \(outer)×\(channels)", buffers: ["dy": dy, "dBias": .nan(channels)],
                                  outputs: ["dBias"]) {
                .biasGradient(dy: try $0["dy"], dBias: try $0["dBias"], outer: outer, channels: channels, inner: 1)
            }
            let result = try call.run(on: cpu)["dBias"]!
            for c in 0..<channels {
                let expected = pairwiseSum(count: outer) { dy[$0 * channels + c] }
                XCTAssertEqual(result[c].bitPattern, expected.bitPattern, "\(outer)×\(channels) channel \(c)")
            }
        }
    }
}
