import Canopy
import Foundation
import XCTest

/// `canopy tune` and `canopy train --tune`, run as a user would, with the kernel cache (and so the tuning file)
/// in the scratch folder.
final class TuneCommandTests: ScratchTestCase {
    private var cache: URL { scratch.appendingPathComponent("cache") }

    /// Skips when this machine has no OpenCL device.
    private func skipWithoutOpenCL(_ result: CommandResult) throws {
        if result.status != 0, result.stderr.contains("no OpenCL platform or device") {
            throw XCTSkip("no OpenCL device: \(result.stderr)")
        }
    }

    private func tuningFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? [])
            .filter { $0.hasPrefix("tunables-") && $0.hasSuffix(".json") }
    }

    func testTunePrintsGroupsChoicesAndTheFileWritten() throws {
        let result = try canopy("tune", "--seconds", "0.01", environment: ["CANOPY_CACHE_DIR": cache.path])
        try skipWithoutOpenCL(result)
        XCTAssertEqual(result.status, 0, result.stderr)
        for group in ["matmul register block", "matmul work-group", "matmul kernel", "reduction", "element-wise"] {
            XCTAssertTrue(result.stdout.contains("\(group) ("), "\(group) missing from:\n\(result.stdout)")
        }
        XCTAssertTrue(result.stdout.contains("chose "), result.stdout)
        XCTAssertTrue(result.stdout.contains("skipped (time budget)"), result.stdout)
        XCTAssertEqual(tuningFiles().count, 1)
        XCTAssertTrue(result.stdout.contains("wrote \(cache.path)/\(tuningFiles().first ?? "?")"), result.stdout)

        let bad = try canopy("tune", "--seconds", "0")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--seconds must be above 0"), bad.stderr)
    }

    func testTrainTuneTunesOnlyWhenTheDeviceHasNoTuningFile() throws {
        let model = try write(Self.smallModel(train: "optimizer: {adam: {lr: 0.01}}, batch_size: 64, epochs: 1, seed: 1"))
        let environment = ["CANOPY_CACHE_DIR": cache.path]
        let first = try canopy("train", model, "--backend", "opencl", "--tune", "--tune-seconds", "0.01",
                               "--out", "run1", environment: environment)
        try skipWithoutOpenCL(first)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("tuning the OpenCL device first"), first.stdout)
        XCTAssertEqual(tuningFiles().count, 1)
        let second = try canopy("train", model, "--backend", "opencl", "--tune", "--tune-seconds", "0.01",
                                "--out", "run2", environment: environment)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertFalse(second.stdout.contains("tuning the OpenCL device first"), second.stdout)
    }
}
