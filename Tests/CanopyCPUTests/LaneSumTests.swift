import CanopyCore
import CanopyTestSupport
import XCTest
@testable import CanopyCPU

/// The vector kernels give exactly the scalar definitions' bits: eight pairwise sums at once equal eight scalar
/// pairwise sums, and a dense layer's bias gradient (summed eight channels at a time) equals per-channel sums.
final class LaneSumTests: XCTestCase {
    func testLaneSumsHaveTheScalarSumsBits() {
        var random = TestRandom(seed: 21)
        for count in [0, 1, 7, 8, 9, 63, 64, 65, 129, 1000, 4099] {
            let terms = (0..<count).map { _ in Lanes((0..<8).map { _ in random.float(in: -1...1) * 1000 }) }
            let lanes = pairwiseSumLanes(count: count) { terms[$0] }
            for lane in 0..<8 {
                let scalar = pairwiseSum(count: count) { terms[$0][lane] }
                XCTAssertEqual(lanes[lane].bitPattern, scalar.bitPattern, "count \(count), lane \(lane)")
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
