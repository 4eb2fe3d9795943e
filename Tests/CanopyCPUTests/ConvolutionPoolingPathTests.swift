import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// The fast paths of the CPU convolution and max pooling (issue 8) against the naive references: im2col and
/// col2im over the in-image column span at awkward widths, strides and paddings; image batches split by the cache
/// target; the 2×2 stride-2 max pool with ties, infinities and NaN; and the index check of max-pool backward.
final class ConvolutionPoolingPathTests: XCTestCase {
    let cpu = CPUBackend()

    /// Widths 1, 7, 33 and 129, strides 1 to 3, padding wider than the kernel (whole columns of zeros), groups.
    static let geometries: [ConvGeometry] = [
        ConvGeometry(batch: 2, inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 3, kernelHeight: 3,
                     kernelWidth: 3, padHeight: 1, padWidth: 1),
        ConvGeometry(batch: 3, inChannels: 2, inHeight: 7, inWidth: 7, outChannels: 4, kernelHeight: 3,
                     kernelWidth: 3, strideHeight: 2, strideWidth: 2, padHeight: 1, padWidth: 1),
        ConvGeometry(batch: 1, inChannels: 3, inHeight: 5, inWidth: 33, outChannels: 2, kernelHeight: 2,
                     kernelWidth: 5, strideHeight: 1, strideWidth: 3, padHeight: 0, padWidth: 2),
        ConvGeometry(batch: 2, inChannels: 2, inHeight: 3, inWidth: 129, outChannels: 4, kernelHeight: 3,
                     kernelWidth: 3, padHeight: 1, padWidth: 1, groups: 2),
        ConvGeometry(batch: 2, inChannels: 1, inHeight: 4, inWidth: 7, outChannels: 2, kernelHeight: 1,
                     kernelWidth: 1, strideHeight: 2, strideWidth: 2, padHeight: 2, padWidth: 3),
        ConvGeometry(batch: 1, inChannels: 2, inHeight: 6, inWidth: 6, outChannels: 3, kernelHeight: 2,
                     kernelWidth: 2, strideHeight: 1, strideWidth: 1, padHeight: 3, padWidth: 3),
    ]

    func testConvolutionAtAwkwardSizesAgainstNaive() throws {
        var largest: Float = 0
        for g in Self.geometries { largest = max(largest, try checkConvolutionPasses(g, on: cpu)) }
        print("conv2d column spans vs naive: largest abs diff \(largest)")
    }

    /// 9 images of 16×40×40 under a 3×3 kernel unfold to 9 · 144 · 1600 floats, more than the 1 Mi cache
    /// target: the default plan goes in batches (the weight gradient accumulating), and still matches the naive
    /// sums; one thread and two give bit-identical results.
    func testConvolutionInCacheSizedBatches() throws {
        let g = ConvGeometry(batch: 9, inChannels: 16, inHeight: 40, inWidth: 40, outChannels: 8, kernelHeight: 3,
                             kernelWidth: 3, padHeight: 1, padWidth: 1)
        XCTAssertGreaterThan(g.batch * 16 * 9 * 1600, 1 << 20)
        print("conv2d in cache-sized batches vs naive: largest abs diff \(try checkConvolutionPasses(g, on: cpu))")
        for call in KernelCalls.convolutionPasses(g, seed: 2) {
            let one = try call.run(on: CPUBackend(threads: 1)), two = try call.run(on: CPUBackend(threads: 2))
            for name in call.outputs { XCTAssertEqual(one[name], two[name], "\(call.name) \(name): 1 vs 2 threads") }
        }
    }

    /// 2×2 stride-2 pooling at odd and even sides (the last row or column without a window), values with ties,
    /// ±infinity and NaN: the same maxima and first-maximum indices as the naive loop, bit for bit.
    func testMaxPool2x2AgainstNaive() throws {
        var random = TestRandom(seed: 11)
        for (h, w) in [(2, 2), (3, 7), (7, 33), (4, 129), (5, 16), (2, 17), (5, 41), (6, 50), (9, 28), (15, 14)] {
            let g = PoolGeometry(batch: 2, channels: 3, inHeight: h, inWidth: w, kernel: 2, stride: 2)
            let special: [Float] = [0, 0, 1, -1, .infinity, -.infinity, .nan, 2]
            let x = (0..<g.inputCount).map { _ in special[random.int(below: special.count)] }
            let call = KernelCall("maxPool 2×2 \(h)×\(w)", buffers: ["x": x, "y": .nan(g.outputCount),
                                                                  "i": .nan(g.outputCount)], outputs: ["y", "i"]) {
                .maxPool(input: try $0["x"], output: try $0["y"], indices: try $0["i"], geometry: g)
            }
            let result = try call.run(on: cpu)
            let (y, indices) = Naive.maxPool(x, g)
            XCTAssertEqual(result["i"]!, indices, "\(call.name) indices")
            XCTAssertEqual(result["y"]!.map(\.bitPattern), y.map(\.bitPattern), "\(call.name) values")
        }
    }

    /// The 2×2 stride-2 gradient against a naive scatter, bit for bit (dy of −0 included, which adding to zero turns
    /// into +0): odd and even sides, wide and narrow planes, rows ending in a partial block of 16 windows, and a
    /// plane whose index lies elsewhere in the plane (a valid call maxPool would not make).
    func testMaxPool2x2BackwardAgainstScatter() throws {
        var random = TestRandom(seed: 12)
        for (h, w) in [(2, 2), (3, 7), (7, 33), (4, 129), (5, 65), (2, 17), (5, 41), (6, 50), (9, 28), (15, 14)] {
            let g = PoolGeometry(batch: 2, channels: 3, inHeight: h, inWidth: w, kernel: 2, stride: 2)
            let x = random.floats(g.inputCount)
            var (_, indices) = Naive.maxPool(x, g)
            indices[g.outputCount - 1] = Float(h * w - 1)   // the last plane's last window points at the last element
            let dy = (0..<g.outputCount).map { $0 % 5 == 0 ? -0.0 : random.floats(1)[0] }
            var expected = [Float](repeating: 0, count: g.inputCount)
            for o in 0..<g.outputCount { expected[o / (g.outHeight * g.outWidth) * h * w + Int(indices[o])] += dy[o] }
            let call = KernelCall("maxPoolBackward 2×2 \(h)×\(w)", buffers: ["dy": dy, "i": indices,
                                                                          "dx": .nan(g.inputCount)], outputs: ["dx"]) {
                .maxPoolBackward(dOutput: try $0["dy"], indices: try $0["i"], dInput: try $0["dx"], geometry: g)
            }
            XCTAssertEqual(try call.run(on: cpu)["dx"]!.map(\.bitPattern), expected.map(\.bitPattern), call.name)
        }
    }

    /// An index that is negative, fractional, NaN, infinite or past the plane is refused wherever it sits (also
    /// past the first block of the check), and dInput is left untouched.
    func testMaxPoolBackwardRefusesBadIndices() throws {
        let g = PoolGeometry(batch: 2, channels: 2600, inHeight: 2, inWidth: 2, kernel: 2, stride: 2)
        let good = [Float](repeating: 3, count: g.outputCount)
        let dy = try cpu.makeBuffer([Float](repeating: 1, count: g.outputCount))
        for (position, bad) in [(0, Float(-1)), (4095, 1.5), (4096, .nan), (g.outputCount - 1, 4), (77, .infinity),
                                (5000, 8_388_609)] {
            var indices = good
            indices[position] = bad
            let dx = try cpu.makeBuffer([Float](repeating: 7, count: g.inputCount))
            XCTAssertThrowsError(try cpu.execute(.maxPoolBackward(dOutput: dy, indices: try cpu.makeBuffer(indices),
                                                                  dInput: dx, geometry: g))) { error in
                XCTAssertTrue("\(error)".contains("indices[\(position)]"), "\(error)")
            }
            XCTAssertEqual(try cpu.download(dx), [Float](repeating: 7, count: g.inputCount), "a failed call wrote dInput")
        }
        let dx = try cpu.makeBuffer([Float](repeating: 7, count: g.inputCount))
        try cpu.execute(.maxPoolBackward(dOutput: dy, indices: try cpu.makeBuffer(good), dInput: dx, geometry: g))
        XCTAssertEqual(try cpu.download(dx), (0..<g.inputCount).map { $0 % 4 == 3 ? 1 : 0 })
    }
}
