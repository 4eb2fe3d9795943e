import CanopyCore
import CanopyCPU
import CanopyTestSupport
import Foundation
import XCTest

/// The kernels behind the `layernorm` layer against values worked out by hand from PyTorch's formula
/// `y = (x − mean) / sqrt(var + eps) · gamma + beta` (biased variance, eps = 1e-5; beta is a following bias add).
final class LayerNormKernelTests: XCTestCase {
    let cpu = CPUBackend()

    /// x = [1, 2, 3, 4]: mean 2.5, var 1.25, rstd = 1/√1.25001 = 0.8944236; a constant row [5, 5, 5, 5] normalizes
    /// to zeros with rstd = 1/√eps.
    func testForwardByHand() throws {
        let call = KernelCall("layerNorm", buffers: ["x": [1, 2, 3, 4, 5, 5, 5, 5], "gamma": [1, 2, 0.5, -1],
                                                     "y": .nan(8), "normalized": .nan(8), "rstd": .nan(2)],
                              outputs: ["y", "normalized", "rstd"]) {
            .layerNorm(x: try $0["x"], gamma: try $0["gamma"], y: try $0["y"], normalized: try $0["normalized"],
                       rstd: try $0["rstd"], rows: 2, cols: 4, eps: 1e-5)
        }
        let out = try call.run(on: cpu)
        let r: Float = 0.894423613312618
        assertClose(out["rstd"]!, [r, 1 / Float(1e-5).squareRoot()], tolerance: .float32, "rstd")
        assertClose(out["normalized"]!, [-1.5 * r, -0.5 * r, 0.5 * r, 1.5 * r, 0, 0, 0, 0], tolerance: .float32, "x̂")
        assertClose(out["y"]!, [-1.3416354199689269, -0.894423613312618, 0.2236059033281545, -1.3416354199689269,
                                0, 0, 0, 0], tolerance: .float32, "y")
    }

    /// dy = [0.5, −1, 2, 1] through the same row: dx from the closed form, which a double-precision central
    /// difference of PyTorch's formula confirms to 1e-9.
    func testBackwardByHand() throws {
        let r: Float = 0.894423613312618
        let call = KernelCall("layerNormBackward", buffers: ["normalized": [-1.5 * r, -0.5 * r, 0.5 * r, 1.5 * r],
                                                             "rstd": [r], "gamma": [1, 2, 0.5, -1],
                                                             "dy": [0.5, -1, 2, 1], "dx": .nan(4)],
                              outputs: ["dx"]) {
            .layerNormBackward(normalized: try $0["normalized"], rstd: try $0["rstd"], gamma: try $0["gamma"],
                               dy: try $0["dy"], dx: try $0["dx"], rows: 1, cols: 4)
        }
        assertClose(try call.run(on: cpu)["dx"]!, [0.58137695860, -1.52051960598, 1.29691370265, -0.35777105527],
                    tolerance: .float32, "dx")
    }

    /// eps must be finite and > 0, on every backend (the contract).
    func testContractRefusesBadEps() throws {
        for eps: Float in [0, -1, .nan, .infinity] {
            let call = KernelCall("layerNorm", buffers: ["x": [1], "gamma": [1], "y": [0], "normalized": [0], "rstd": [0]],
                                  outputs: ["y"]) {
                .layerNorm(x: try $0["x"], gamma: try $0["gamma"], y: try $0["y"], normalized: try $0["normalized"],
                           rstd: try $0["rstd"], rows: 1, cols: 1, eps: eps)
            }
            XCTAssertThrowsError(try call.run(on: cpu), "eps \(eps)")
        }
    }
}
