import CanopyCore
import CanopyCPU
import CanopyTestSupport
import Foundation
import XCTest

/// The kernels behind leaky_relu, elu, silu, avgpool and global_avgpool against hand-worked values (PyTorch's
/// formulas) and a naive average pooling.
final class LayerKernelTests: XCTestCase {
    let cpu = CPUBackend()

    /// Runs a forward and a backward call (dy given) on the CPU and returns (y, dx).
    private func run(_ forward: @escaping (KernelBuffers) throws -> Kernel, x: [Float], yCount: Int,
                     _ backward: @escaping (KernelBuffers) throws -> Kernel, dy: [Float]) throws -> ([Float], [Float]) {
        let y = try KernelCall("forward", buffers: ["x": x, "y": .nan(yCount)], outputs: ["y"], makeKernel: forward)
            .run(on: cpu)["y"]!
        let dx = try KernelCall("backward", buffers: ["x": x, "dy": dy, "dx": .nan(x.count)], outputs: ["dx"],
                                makeKernel: backward).run(on: cpu)["dx"]!
        return (y, dx)
    }

    private func parametric(_ f: ParametricUnaryFunction, _ alpha: Float, _ x: [Float]) throws -> ([Float], [Float]) {
        try run({ .parametricUnary(f, parameter: alpha, x: try $0["x"], y: try $0["y"], count: x.count) }, x: x,
                yCount: x.count,
                { .parametricUnaryBackward(f, parameter: alpha, x: try $0["x"], dy: try $0["dy"], dx: try $0["dx"],
                                           count: x.count) }, dy: [Float](repeating: 1, count: x.count))
    }

    /// LeakyReLU(x) = x > 0 ? x : slope·x; its derivative is the slope at 0 and below (PyTorch's).
    func testLeakyReluByHand() throws {
        let (y, dx) = try parametric(.leakyRelu, 0.2, [-2, -0.5, 0, 3])
        assertClose(y, [-0.4, -0.1, 0, 3], tolerance: .float32, "leaky_relu 0.2")
        assertClose(dx, [0.2, 0.2, 0.2, 1], tolerance: .exact, "leaky_relu 0.2 derivative")
        let (yDefault, _) = try parametric(.leakyRelu, 0.01, [-100, 7])
        assertClose(yDefault, [-1, 7], tolerance: .float32, "leaky_relu 0.01")
    }

    /// ELU(x) = x > 0 ? x : α·(eˣ − 1); derivative α·eˣ at 0 and below.
    func testEluByHand() throws {
        let (y, dx) = try parametric(.elu, 1, [-1, 0, 2, -20])
        assertClose(y, [-0.63212056, 0, 2, -1], tolerance: .float32, "elu 1")
        assertClose(dx, [0.36787944, 1, 1, 2.0611537e-09], tolerance: .float32, "elu 1 derivative")
        let (yHalf, dxHalf) = try parametric(.elu, 0.5, [-1, 1e-4, -1e-4])
        assertClose(yHalf, [-0.31606028, 1e-4, -4.9997500e-05], tolerance: .float32, "elu 0.5 (expm1 near 0)")
        assertClose(dxHalf, [0.18393972, 1, 0.49995000], tolerance: .float32, "elu 0.5 derivative")
    }

    /// SiLU(x) = x·σ(x); derivative σ(x)·(1 + x·(1 − σ(x))).
    func testSiluByHand() throws {
        let x: [Float] = [1, -2, 0, 30]
        let (y, dx) = try run({ .unary(.silu, x: try $0["x"], y: try $0["y"], count: x.count) }, x: x,
                              yCount: x.count,
                              { .unaryBackward(.silu, x: try $0["x"], y: try $0["x"], dy: try $0["dy"], dx: try $0["dx"],
                                               count: x.count) }, dy: [1, 1, 1, 1])
        assertClose(y, [0.7310586, -0.23840584, 0, 30], tolerance: .float32, "silu")
        assertClose(dx, [0.92767054, -0.09078425, 0.5, 1], tolerance: .float32, "silu derivative")
    }

    /// A 4×5 plane holding 0...19, 2×2 windows with stride 2: the last column is in no window.
    func testAvgPoolByHand() throws {
        let g = PoolGeometry(batch: 1, channels: 1, inHeight: 4, inWidth: 5, kernel: 2, stride: 2)
        let (y, dx) = try run({ .avgPool(input: try $0["x"], output: try $0["y"], geometry: g) },
                              x: (0..<20).map(Float.init), yCount: 4,
                              { .avgPoolBackward(dOutput: try $0["dy"], dInput: try $0["dx"], geometry: g) },
                              dy: [1, 2, 3, 4])
        assertClose(y, [3, 5, 13, 15], tolerance: .exact, "avgpool")
        assertClose(dx, [0.25, 0.25, 0.5, 0.5, 0,
                         0.25, 0.25, 0.5, 0.5, 0,
                         0.75, 0.75, 1, 1, 0,
                         0.75, 0.75, 1, 1, 0], tolerance: .exact, "avgpool backward")
    }

    /// Overlapping and edge-dropping windows against a naive double-precision average.
    func testAvgPoolAgainstNaive() throws {
        for g in KernelCalls.poolGeometries + [PoolGeometry(batch: 3, channels: 4, inHeight: 11, inWidth: 7,
                                                            kernel: 3, stride: 1)] {
            var random = TestRandom(seed: 5)
            let x = random.floats(g.inputCount), dy = random.floats(g.outputCount)
            var expectedY = [Float](), expectedDx = [Double](repeating: 0, count: g.inputCount)
            let plane = g.inHeight * g.inWidth, k2 = Double(g.kernel * g.kernel)
            for p in 0..<g.batch * g.channels {
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        let o = (p * g.outHeight + oh) * g.outWidth + ow
                        var sum = 0.0
                        for h in oh * g.stride..<oh * g.stride + g.kernel {
                            for w in ow * g.stride..<ow * g.stride + g.kernel {
                                sum += Double(x[p * plane + h * g.inWidth + w])
                                expectedDx[p * plane + h * g.inWidth + w] += Double(dy[o]) / k2
                            }
                        }
                        expectedY.append(Float(sum / k2))
                    }
                }
            }
            let (y, dx) = try run({ .avgPool(input: try $0["x"], output: try $0["y"], geometry: g) }, x: x,
                                  yCount: g.outputCount,
                                  { .avgPoolBackward(dOutput: try $0["dy"], dInput: try $0["dx"], geometry: g) }, dy: dy)
            assertClose(y, expectedY, tolerance: .float32, "avgpool \(g)")
            assertClose(dx, expectedDx.map(Float.init), tolerance: .float32, "avgpool backward \(g)")
        }
    }

    /// Global average pooling's row means: [[1, 2, 3], [4, 5, 6]] → [2, 5]; dy [3, 6] spreads as 1s and 2s.
    func testRowMeanByHand() throws {
        let (y, dx) = try run({ .rowMean(x: try $0["x"], y: try $0["y"], rows: 2, cols: 3) }, x: [1, 2, 3, 4, 5, 6],
                              yCount: 2, { .rowMeanBackward(dy: try $0["dy"], dx: try $0["dx"], rows: 2, cols: 3) },
                              dy: [3, 6])
        assertClose(y, [2, 5], tolerance: .exact, "row mean")
        assertClose(dx, [1, 1, 1, 2, 2, 2], tolerance: .exact, "row mean backward")
    }
}
