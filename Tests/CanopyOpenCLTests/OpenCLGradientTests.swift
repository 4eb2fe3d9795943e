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
