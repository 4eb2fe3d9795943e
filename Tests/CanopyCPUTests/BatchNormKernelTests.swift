import CanopyCore
import CanopyCPU
import CanopyTestSupport
import Foundation
import XCTest

/// The kernels behind the `batchnorm` layer against a direct double-precision reference of PyTorch's formulas:
/// per channel over the real rows and every position, biased variance to normalize, unbiased for the running
/// statistics, `running ← (1 − m)·running + m·batch`.
final class BatchNormKernelTests: XCTestCase {
    let cpu = CPUBackend()

    /// The statistics of channel `c` of x [outer, channels, inner] over the rows whose mask is 1.
    private func reference(_ x: [Float], mask: [Float], outer: Int, channels: Int, inner: Int,
                           c: Int) -> (mean: Double, biased: Double, unbiased: Double) {
        var values: [Double] = []
        for n in 0..<outer where mask[n] == 1 {
            for s in 0..<inner { values.append(Double(x[(n * channels + c) * inner + s])) }
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let squares = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
        return (mean, squares / Double(values.count), values.count > 1 ? squares / Double(values.count - 1) : 0)
    }

    /// [5, 3, 4] with the last two rows padding: mean, variances and y per channel as the reference says, and the
    /// padding rows normalized with the real rows' statistics.
    func testTrainingForwardLeavesPaddingOutOfTheStatistics() throws {
        let (outer, channels, inner) = (5, 3, 4)
        var random = TestRandom(seed: 3)
        let x = random.floats(outer * channels * inner).map { $0 * 2 + 0.5 }, gamma: [Float] = [1, -0.5, 2]
        let mask: [Float] = [1, 1, 1, 0, 0]
        let out = try KernelCall("batchNorm", buffers: ["x": x, "rowMask": mask, "gamma": gamma, "y": .nan(60),
                                                       "normalized": .nan(60), "mean": .nan(3), "variance": .nan(3),
                                                       "rstd": .nan(3)],
                                 outputs: ["y", "mean", "variance", "rstd"]) {
            .batchNorm(x: try $0["x"], rowMask: try $0["rowMask"], gamma: try $0["gamma"], y: try $0["y"],
                       normalized: try $0["normalized"], mean: try $0["mean"], variance: try $0["variance"],
                       rstd: try $0["rstd"], outer: outer, channels: channels, inner: inner, eps: 1e-5)
        }.run(on: cpu)
        for c in 0..<channels {
            let r = reference(x, mask: mask, outer: outer, channels: channels, inner: inner, c: c)
            XCTAssertEqual(Double(out["mean"]![c]), r.mean, accuracy: 1e-6)
            XCTAssertEqual(Double(out["variance"]![c]), r.unbiased, accuracy: 1e-5)
            let rstd = 1 / (r.biased + 1e-5).squareRoot()
            XCTAssertEqual(Double(out["rstd"]![c]), rstd, accuracy: 1e-5 * rstd)
            for n in 0..<outer {
                for s in 0..<inner {
                    let i = (n * channels + c) * inner + s
                    XCTAssertEqual(Double(out["y"]![i]), (Double(x[i]) - r.mean) * rstd * Double(gamma[c]), accuracy: 1e-5)
                }
            }
        }
    }

    /// Inference normalizes with the running statistics, not the batch's.
    func testInferenceUsesTheRunningStatistics() throws {
        let call = KernelCall("batchNormInference", buffers: ["x": [1, 2, 3, 4], "gamma": [2, 1], "runningMean": [1, -1],
                                                             "runningVariance": [4, 0.25], "y": .nan(4)],
                              outputs: ["y"]) {
            .batchNormInference(x: try $0["x"], gamma: try $0["gamma"], runningMean: try $0["runningMean"],
                                runningVariance: try $0["runningVariance"], y: try $0["y"], outer: 2, channels: 2,
                                inner: 1, eps: 1e-5)
        }
        let y = try call.run(on: cpu)["y"]!
        let a = 2 / Float(4 + 1e-5).squareRoot(), b = 1 / Float(0.25 + 1e-5).squareRoot()
        assertClose(y, [0 * a, 3 * b, 2 * a, 5 * b], tolerance: .float32, "y")
    }

    /// PyTorch's update with momentum 0.1.
    func testRunningUpdate() throws {
        let call = KernelCall("batchNormRunningUpdate", buffers: ["mean": [1, 2], "variance": [3, 4],
                                                                 "runningMean": [0, 0], "runningVariance": [1, 1]],
                              outputs: ["runningMean", "runningVariance"]) {
            .batchNormRunningUpdate(mean: try $0["mean"], variance: try $0["variance"], runningMean: try $0["runningMean"],
                                    runningVariance: try $0["runningVariance"], channels: 2, momentum: 0.1)
        }
        let out = try call.run(on: cpu)
        assertClose(out["runningMean"]!, [0.1, 0.2], tolerance: .float32, "running mean")
        assertClose(out["runningVariance"]!, [1.2, 1.3], tolerance: .float32, "running variance")
    }

    /// Momentum outside [0, 1] and a bad eps are refused on every backend (the contract).
    func testContractRefusesBadSettings() throws {
        for momentum: Float in [-0.1, 1.5, .nan] {
            let call = KernelCall("update", buffers: ["m": [0], "v": [0], "rm": [0], "rv": [1]], outputs: ["rm"]) {
                .batchNormRunningUpdate(mean: try $0["m"], variance: try $0["v"], runningMean: try $0["rm"],
                                        runningVariance: try $0["rv"], channels: 1, momentum: momentum)
            }
            XCTAssertThrowsError(try call.run(on: cpu), "momentum \(momentum)")
        }
        let call = KernelCall("inference", buffers: ["x": [1], "g": [1], "rm": [0], "rv": [1], "y": [0]], outputs: ["y"]) {
            .batchNormInference(x: try $0["x"], gamma: try $0["g"], runningMean: try $0["rm"], runningVariance: try $0["rv"],
                                y: try $0["y"], outer: 1, channels: 1, inner: 1, eps: 0)
        }
        XCTAssertThrowsError(try call.run(on: cpu))
    }
}
