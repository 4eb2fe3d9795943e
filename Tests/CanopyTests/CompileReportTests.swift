import Canopy
import Foundation
import XCTest

/// A first OpenCL run says that it compiled kernels and how long its first step took with them; a run that loads
/// them from the kernel cache says nothing of the kind.
final class CompileReportTests: ScratchTestCase {
    func testFirstOpenCLRunReportsCompiledPrograms() throws {
        guard (try? OpenCLBackend.availableDevices())?.isEmpty == false else { throw XCTSkip("no OpenCL device") }
        let model = try write(Self.smallModel(train: "optimizer: {adam: {lr: 0.01}}, batch_size: 64, epochs: 1, seed: 1"))
        let cache = scratch.appendingPathComponent("kernel-cache").path
        let first = try canopy("train", model, "--backend", "opencl", "--out", "first", environment: ["CANOPY_CACHE_DIR": cache])
        XCTAssertEqual(first.status, 0, first.stderr)
        let line = try XCTUnwrap(first.stdout.split(separator: "\n").first { $0.hasPrefix("opencl: compiled ") }, first.stdout)
        XCTAssertTrue(line.contains("kernel programs from source for the first step (")
                      && line.contains(" s with it); later runs on this device and driver load them from the kernel cache"),
                      String(line))
        let second = try canopy("train", model, "--backend", "opencl", "--out", "second", environment: ["CANOPY_CACHE_DIR": cache])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertFalse(second.stdout.contains("opencl: compiled"), second.stdout)
        let onCPU = try canopy("train", model, "--backend", "cpu", "--out", "third")
        XCTAssertFalse(onCPU.stdout.contains("opencl: compiled"), onCPU.stdout)
    }
}
