import Foundation
import CanopyCPU
import CanopyTestSupport
import XCTest

/// Every differentiable kernel pair of the CPU backend against central differences.
final class GradientTests: XCTestCase {
    func testAllKernelGradients() {
        let reports = checkAllKernelGradients(on: CPUBackend())
        XCTAssertGreaterThanOrEqual(reports.count, 25)
        let largest = reports.map(\.largest).max() ?? .infinity
        print("largest gradient difference on cpu: \(largest)")
    }

    func testAllKernelGradientsSingleThreaded() {
        let reports = checkAllKernelGradients(on: CPUBackend(threads: 1))
        XCTAssertTrue(reports.allSatisfy(\.passed))
    }
}

/// The checker itself must be able to fail: a backward pass with a wrong factor is reported.
final class GradientCheckerTests: XCTestCase {
    func testWrongGradientIsCaught() {
        let cpu = CPUBackend()
        let report = checkGradient("scale with a wrong backward", on: cpu, inputs: ["x": [0.5, -1, 2]], wrt: ["x"],
                                   recordFailures: false, forward: { ctx in
            let y = try ctx.buffer("y", count: 3)
            try ctx.run(.scale(x: try ctx["x"], y: y, alpha: 2, count: 3))
            return (y, 3)
        }, backward: { ctx, dy in
            let dx = try ctx.buffer("dx", count: 3)
            try ctx.run(.scale(x: dy, y: dx, alpha: 2.1, count: 3))
            return ["x": dx]
        })
        XCTAssertFalse(report.passed, "a 5% error in the gradient went unnoticed: \(report)")
        XCTAssertGreaterThan(report.largest, 0.01)
    }
}

/// Gradient reversal on the CPU: forward values unchanged, the gradient behind it exactly −λ times the plain one.
final class GradientReversalTests: XCTestCase {
    func testReversalNegatesAndScalesTheGradientBehindIt() throws {
        for lambda: Float in [1, 0.5, 2, 0] {
            let check = try checkGradientReversal(on: CPUBackend(), lambda: lambda)
            XCTAssertEqual(check.forward, 0, "λ \(lambda): \(check)")
            XCTAssertEqual(check.head, 0, "λ \(lambda): \(check)")
            XCTAssertEqual(check.trunk, 0, "λ \(lambda) (a power of two or 0, so exact): \(check)")
            XCTAssertGreaterThan(check.trunkScale, 0.01)
            if lambda > 0 { XCTAssertLessThan(check.finiteDifference, 2e-2, "λ \(lambda): \(check)") }
        }
        let check = try checkGradientReversal(on: CPUBackend(), lambda: 0.3)
        XCTAssertEqual(check.forward, 0, "\(check)")
        XCTAssertLessThanOrEqual(check.trunk, 1e-6 * check.trunkScale, "λ 0.3: \(check)")
        XCTAssertLessThan(check.finiteDifference, 2e-2, "\(check)")
        print("gradient reversal on cpu, λ 0.3: \(check)")
    }

    /// A scheduled λ (`schedule: ganin`): the factor comes from a [1] input, and the gradient behind the layer is
    /// exactly (−λ·dy)·factor — here at 37 % of a run, factor 2/(1+e^−3.7) − 1.
    func testAScheduledFactorScalesTheReversedGradientExactly() throws {
        let factor = Float(2 / (1 + exp(-10 * 0.37)) - 1)
        for lambda: Float in [1, 0.3] {
            let check = try checkGradientReversal(on: CPUBackend(), lambda: lambda, factor: factor)
            XCTAssertEqual(check.forward, 0, "λ \(lambda): \(check)")
            XCTAssertEqual(check.head, 0, "λ \(lambda): \(check)")
            XCTAssertEqual(check.input, 0, "λ \(lambda), factor \(factor): \(check)")
            XCTAssertLessThanOrEqual(check.trunk, 1e-6 * check.trunkScale, "λ \(lambda): \(check)")
            XCTAssertLessThan(check.finiteDifference, 2e-2, "λ \(lambda): \(check)")
        }
        XCTAssertEqual(try checkGradientReversal(on: CPUBackend(), lambda: 0.5).input, 0, "constant λ: exact too")
    }
}
