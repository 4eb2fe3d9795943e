import CanopyCore
import CanopyOpenCL
import CanopyTestSupport
import XCTest

/// Every kernel's contract on the OpenCL backend, exactly as on the CPU: the same call that is an error there is
/// an error here, before anything is enqueued.
final class OpenCLKernelContractTests: XCTestCase {
    func testEveryKernelChecksItsContract() throws {
        let openCL = try OpenCLTesting.backend()
        let coverage = try checkKernelContracts(on: openCL)
        print("opencl contracts: \(coverage.calls) calls, \(coverage.kernels.count) kernels, "
              + "\(coverage.shrunkRoles.count) roles shrunk, \(coverage.aliasedKernels.count) kernels aliased")
        XCTAssertEqual(coverage.kernels.count, kernelNameCount, "kernels covered: \(coverage.kernels.sorted())")
        XCTAssertEqual(coverage.shrunkRoles, coverage.declaredRoles)
        XCTAssertEqual(coverage.aliasedKernels, coverage.kernels.subtracting(["fill"]))
    }
}
