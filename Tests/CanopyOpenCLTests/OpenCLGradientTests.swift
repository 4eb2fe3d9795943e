import Foundation
import CanopyCore
import CanopyOpenCL
import CanopyTestSupport
import XCTest

/// Finite-difference gradient checks of every differentiable kernel pair, run on the OpenCL backend.
final class OpenCLGradientTests: XCTestCase {
    func testAllKernelGradients() throws {
        let backend = try OpenCLTesting.backend()
        let reports = checkAllKernelGradients(on: backend)
        XCTAssertGreaterThan(reports.count, 20)
        let failed = reports.filter { !$0.passed }.map(\.name)
        XCTAssertEqual(failed, [], "gradient checks failed on OpenCL")
        print("OpenCL gradient checks: \(reports.count) checks, largest difference \(reports.map(\.largest).max() ?? 0)")
    }
}

/// Gradient reversal on OpenCL: forward values unchanged, the gradient behind it exactly −λ times the plain one.
final class OpenCLGradientReversalTests: XCTestCase {
    func testReversalNegatesAndScalesTheGradientBehindIt() throws {
        let backend = try OpenCLTesting.backend()
        for lambda: Float in [1, 0.5, 2] {
            let check = try checkGradientReversal(on: backend, lambda: lambda)
            XCTAssertEqual(check.forward, 0, "λ \(lambda): \(check)")
            XCTAssertEqual(check.head, 0, "λ \(lambda): \(check)")
            XCTAssertEqual(check.trunk, 0, "λ \(lambda) (a power of two, so exact): \(check)")
            XCTAssertGreaterThan(check.trunkScale, 0.01)
            XCTAssertLessThan(check.finiteDifference, 2e-2, "λ \(lambda): \(check)")
        }
        let check = try checkGradientReversal(on: backend, lambda: 0.3)
        XCTAssertLessThanOrEqual(check.trunk, 1e-6 * check.trunkScale, "λ 0.3: \(check)")
        print("gradient reversal on OpenCL, λ 0.3: \(check)")
    }

    /// A scheduled λ (`schedule: ganin`): the factor comes from a [1] input, and the gradient behind the layer is
    /// exactly (−λ·dy)·factor — here at 37 % of a run, factor 2/(1+e^−3.7) − 1.
    func testAScheduledFactorScalesTheReversedGradientExactly() throws {
        let backend = try OpenCLTesting.backend()
        let factor = Float(2 / (1 + exp(-10 * 0.37)) - 1)
        for lambda: Float in [1, 0.3] {
            let check = try checkGradientReversal(on: backend, lambda: lambda, factor: factor)
            XCTAssertEqual(check.forward, 0, "λ \(lambda): \(check)")
            XCTAssertEqual(check.head, 0, "λ \(lambda): \(check)")
            XCTAssertEqual(check.input, 0, "λ \(lambda), factor \(factor): \(check)")
            XCTAssertLessThanOrEqual(check.trunk, 1e-6 * check.trunkScale, "λ \(lambda): \(check)")
            XCTAssertLessThan(check.finiteDifference, 2e-2, "λ \(lambda): \(check)")
        }
        XCTAssertEqual(try checkGradientReversal(on: backend, lambda: 0.5).input, 0, "constant λ: exact too")
    }
}
