import CanopyCore
import CanopyCPU
import CanopyTestSupport
import Foundation
import XCTest

/// Optimizer steps against values worked out by hand, and dropout's mask against DropoutRandom.
final class OptimizerDropoutTests: XCTestCase {
    let cpu = CPUBackend()

    /// g = 0.5 + 0.01·1 = 0.51; v = 0.9·0.2 + 0.51 = 0.69; p = 1 − 0.1·0.69 = 0.931. A second step from there:
    /// g = 0.5 + 0.01·0.931 = 0.50931; v = 0.9·0.69 + 0.50931 = 1.13031; p = 0.931 − 0.113031 = 0.817969.
    func testSGDMomentumTwoSteps() throws {
        let param = try cpu.makeBuffer([1, -2]), grad = try cpu.makeBuffer([0.5, 0]), velocity = try cpu.makeBuffer([0.2, 0])
        let hyper = SGDHyperparameters(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        try cpu.execute(.sgdUpdate(param: param, grad: grad, velocity: velocity, count: 2, hyper: hyper))
        assertClose(try cpu.download(param), [0.931, -2 + 0.1 * 0.02], tolerance: .float32, "sgd step 1 param")
        assertClose(try cpu.download(velocity), [0.69, -0.02], tolerance: .float32, "sgd step 1 velocity")
        try cpu.execute(.sgdUpdate(param: param, grad: grad, velocity: velocity, count: 2, hyper: hyper))
        assertClose(try cpu.download(param), [0.817969, -1.998 - 0.1 * (0.9 * -0.02 - 0.01998)],
                    tolerance: .float32, "sgd step 2 param")
    }

    /// RMSprop as PyTorch computes it. From s = 0 with α = 0.9: s = 0.1·g², so every first step moves by
    /// lr·g/|g|·√10 = ±0.316228 (ε negligible). With momentum 0.9 the buffer holds that step; a second step adds
    /// 0.9 × it to the next one. Weight decay adds wd·p to g first.
    func testRMSpropWithAndWithoutMomentum() throws {
        let root10 = Float(10).squareRoot()
        for momentum: Float in [0, 0.9] {
            let param = try cpu.makeBuffer([1, -2]), grad = try cpu.makeBuffer([0.5, 0.1])
            let square = try cpu.makeBuffer(count: 2), buffer = try cpu.makeBuffer(count: 2)
            let hyper = RMSpropHyperparameters(learningRate: 0.1, alpha: 0.9, epsilon: 1e-8, momentum: momentum)
            try cpu.execute(.rmspropUpdate(param: param, grad: grad, square: square, buffer: buffer, count: 2, hyper: hyper))
            assertClose(try cpu.download(param), [1 - 0.1 * root10, -2 - 0.1 * root10], tolerance: .float32,
                        "rmsprop step 1, momentum \(momentum)")
            assertClose(try cpu.download(square), [0.025, 0.001], tolerance: .float32, "rmsprop square average")
            assertClose(try cpu.download(buffer), momentum > 0 ? [root10, root10] : [0, 0], tolerance: .float32,
                        "rmsprop buffer, momentum \(momentum)")
            // Step 2 with the same gradient: s = 0.9·0.1·g² + 0.1·g² = 0.19·g², step = g/|g|/√0.19.
            try cpu.execute(.rmspropUpdate(param: param, grad: grad, square: square, buffer: buffer, count: 2, hyper: hyper))
            let step2 = 1 / Float(0.19).squareRoot() + (momentum > 0 ? 0.9 * root10 : 0)
            assertClose(try cpu.download(param), [1 - 0.1 * root10 - 0.1 * step2, -2 - 0.1 * root10 - 0.1 * step2],
                        tolerance: .float32, "rmsprop step 2, momentum \(momentum)")
        }
        let param = try cpu.makeBuffer([2]), grad = try cpu.makeBuffer([0]), square = try cpu.makeBuffer(count: 1)
        let buffer = try cpu.makeBuffer(count: 1)
        try cpu.execute(.rmspropUpdate(param: param, grad: grad, square: square, buffer: buffer, count: 1,
                                       hyper: RMSpropHyperparameters(learningRate: 0.1, alpha: 0.9, weightDecay: 0.5)))
        assertClose(try cpu.download(param), [2 - 0.1 * root10], tolerance: .float32, "rmsprop weight decay: g = 0.5·2")
    }

    /// Step 1 from zero moments: p = 1 − 0.1·0.01 = 0.999; m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25;
    /// p = 0.999 − 0.1·0.5/(0.5 + 1e-8) = 0.899 (the first Adam step moves by lr·sign(g)).
    func testAdamWFirstStepAndBiasCorrection() throws {
        let param = try cpu.makeBuffer([1, 1]), grad = try cpu.makeBuffer([0.5, -3])
        let m = try cpu.makeBuffer(count: 2), v = try cpu.makeBuffer(count: 2)
        var hyper = AdamHyperparameters(learningRate: 0.1, weightDecay: 0.01, step: 1)
        try cpu.execute(.adamUpdate(param: param, grad: grad, m: m, v: v, count: 2, hyper: hyper))
        assertClose(try cpu.download(param), [0.899, 1.099], tolerance: .float32, "adamw step 1")
        assertClose(try cpu.download(m), [0.05, -0.3], tolerance: .float32, "adamw m")
        assertClose(try cpu.download(v), [0.00025, 0.009], tolerance: .float32, "adamw v")

        // Step 2 with another gradient, computed in double from the formula.
        try cpu.upload([0.25, 1], to: grad)
        hyper.step = 2
        try cpu.execute(.adamUpdate(param: param, grad: grad, m: m, v: v, count: 2, hyper: hyper))
        var expected: [Float] = []
        for (p0, g0, g1) in [(0.899, 0.5, 0.25), (1.099, -3.0, 1.0)] {
            let p = p0 * (1 - 0.1 * 0.01)
            let m = 0.9 * (0.1 * g0) + 0.1 * g1, v = 0.999 * (0.001 * g0 * g0) + 0.001 * g1 * g1
            let mHat = m / (1 - 0.9 * 0.9), vHat = v / (1 - 0.999 * 0.999)
            expected.append(Float(p - 0.1 * mHat / (vHat.squareRoot() + 1e-8)))
        }
        assertClose(try cpu.download(param), expected, tolerance: .float32, "adamw step 2 (bias correction t = 2)")
    }

    func testDropoutMaskMatchesDropoutRandomAndRate() throws {
        let count = 200_000, p: Float = 0.3, seed: UInt32 = 77
        let call = KernelCalls.dropout(count: count, probability: p, seed: seed)
        let result = try call.run(on: cpu)
        let mask = result["mask"]!, y = result["y"]!, x = call.values("x")
        let keep = 1 / (1 - p)
        var mismatches = 0
        for i in 0..<count {
            let expected: Float = DropoutRandom.uniform(seed: seed, index: UInt32(i)) < p ? 0 : keep
            if mask[i] != expected || y[i] != x[i] * expected { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0, "elements whose mask or output differ from DropoutRandom")
        let dropped = Double(mask.filter { $0 == 0 }.count) / Double(count)
        print("dropout p=0.3: dropped fraction \(dropped) of \(count)")
        XCTAssertEqual(dropped, 0.3, accuracy: 0.005)
        let other = try KernelCalls.dropout(count: count, probability: p, seed: seed + 1).run(on: cpu)["mask"]!
        XCTAssertNotEqual(other, mask, "a different seed must draw a different mask")
    }
}
