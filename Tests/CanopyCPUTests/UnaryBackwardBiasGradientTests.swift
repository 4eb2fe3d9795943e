import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// The fused backward of a layer's activation and bias (``Kernel/unaryBackwardBiasGradient(_:x:y:dy:dx:dBias:outer:channels:inner:)``)
/// gives the bits of ``Kernel/unaryBackward(_:x:y:dy:dx:count:)`` followed by
/// ``Kernel/biasGradient(dy:dBias:outer:channels:inner:)``: dense shapes (16-channel blocks and a ragged last block)
/// and convolution shapes, every function, on two threads.
final class UnaryBackwardBiasGradientTests: XCTestCase {
    func testFusedBackwardEqualsDerivativeThenBiasGradient() throws {
        let backend = CPUBackend(threads: 2)
        for (outer, channels, inner) in [(1, 1, 1), (7, 33, 1), (129, 7, 1), (512, 100, 1), (3, 5, 49), (64, 32, 196)] {
            for function in UnaryFunction.allCases {
                let call = KernelCalls.unaryBackwardBiasGradient(function, outer: outer, channels: channels, inner: inner,
                                                                 seed: UInt64(outer + channels + inner))
                let fused = try call.run(on: backend)
                let count = outer * channels * inner
                let dx = try KernelCall("unaryBackward", buffers: ["x": call.values("x"), "y": call.values("y"),
                                                                   "dy": call.values("dy"), "dx": .nan(count)],
                                        outputs: ["dx"]) {
                    .unaryBackward(function, x: try $0["x"], y: try $0["y"], dy: try $0["dy"], dx: try $0["dx"], count: count)
                }.run(on: backend)["dx"]!
                let dBias = try KernelCall("biasGradient", buffers: ["dy": dx, "dBias": .nan(channels)], outputs: ["dBias"]) {
                    .biasGradient(dy: try $0["dy"], dBias: try $0["dBias"], outer: outer, channels: channels, inner: inner)
                }.run(on: backend)["dBias"]!
                assertClose(fused["dx"]!, dx, tolerance: .exact, "\(call.name): dx")
                assertClose(fused["dBias"]!, dBias, tolerance: .exact, "\(call.name): dBias")
            }
        }
    }
}
