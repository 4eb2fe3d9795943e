import CanopyCore
@testable import CanopyOpenCL
import Foundation
import XCTest

/// Tuning files (round trip, damaged or foreign files ignored, tuned values used by a new backend) and the tuner
/// (a tiny budget still writes a valid file; a candidate with a wrong result is never chosen).
final class OpenCLTuningTests: OpenCLScratchTestCase {
    private func device() throws -> OpenCLDeviceInfo { try OpenCLTesting.backend().deviceInfo }

    private func kernelsFingerprint() throws -> String { try KernelSources(directory: nil).fingerprint() }

    private func backend(cache: URL?, tuning: OpenCLTuningProfile = .automatic) throws -> OpenCLBackend {
        try OpenCLBackend(device: .index(try device().index),
                          options: OpenCLBackendOptions(cacheDirectory: cache, tuning: tuning))
    }

    /// Tunables that differ from the defaults in every group yet suit the device.
    private func altered(_ info: OpenCLDeviceInfo) -> CLTunables {
        var t = CLTunables(info: info, profile: .automatic)
        t.matmulRows = 4; t.matmulColumns = 8; t.matmulGroupX = 2; t.matmulGroupY = 2
        t.reduceGroup = 64; t.reduceVector = 8
        t.elementwiseGroup = 32
        return t
    }

    func testTuningFileRoundTripAndUseByANewBackend() throws {
        let info = try device(), directory = try temporaryDirectory("tuning-round-trip")
        let tuned = altered(info)
        XCTAssertEqual(tuned.problems(on: info), [])
        let url = try CLTuningFile.write(tuned, directory: directory, kernels: try kernelsFingerprint(), device: info)
        XCTAssertEqual(url, CLTuningFile.url(directory: directory, device: info))
        XCTAssertTrue(url.lastPathComponent.hasPrefix("tunables-") && url.lastPathComponent.hasSuffix(".json"))
        XCTAssertEqual(url.lastPathComponent.count, "tunables-".count + 16 + ".json".count)
        XCTAssertEqual(CLTuningFile.load(url, kernels: try kernelsFingerprint(), device: info), tuned)
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(text.contains("\"format\" : 1"), text)

        let backend = try backend(cache: directory)
        XCTAssertEqual(backend.tuningFile, url)
        XCTAssertEqual(backend.tunables, tuned)
        XCTAssertTrue(backend.tunables.options(for: .matmul).contains("-DMM_TM=4 -DMM_TN=8"))
        XCTAssertTrue(backend.tunables.options(for: .reduce).contains("-DREDUCE_VEC=8 -DREDUCE_WG=64"))
        XCTAssertEqual(try OpenCLBackend.tuningFile(device: .index(info.index),
                                                    options: OpenCLBackendOptions(cacheDirectory: directory)), url)
        // It computes with them: a product runs through the tuned program.
        let a = try backend.makeBuffer([1, 2, 3, 4]), b = try backend.makeBuffer([5, 6, 7, 8])
        let c = try backend.makeBuffer(count: 4)
        try backend.execute(.matmul(a: a, b: b, c: c, shape: MatmulShape(m: 2, n: 2, k: 2)))
        XCTAssertEqual(try backend.download(c), [19, 22, 43, 50])

        // A forced profile ignores the file.
        let forced = try self.backend(cache: directory, tuning: .cpu)
        XCTAssertNil(forced.tuningFile)
        XCTAssertEqual(forced.tunables, CLTunables(info: info, profile: .cpu))
    }

    func testDamagedForeignOrUnusableFilesAreIgnored() throws {
        let info = try device(), directory = try temporaryDirectory("tuning-damaged")
        let url = CLTuningFile.url(directory: directory, device: info)
        let kernels = try kernelsFingerprint()
        let defaults = CLTunables(info: info, profile: .automatic)
        func expectIgnored(_ what: String) throws {
            XCTAssertNil(CLTuningFile.load(url, kernels: kernels, device: info), what)
            let backend = try backend(cache: directory)
            XCTAssertNil(backend.tuningFile, what)
            XCTAssertEqual(backend.tunables, defaults, what)
        }
        try Data("{\"format\": 1, \"kern".utf8).write(to: url)
        try expectIgnored("truncated JSON")
        try Data([0xff, 0x00, 0x13]).write(to: url)
        try expectIgnored("binary garbage")

        _ = try CLTuningFile.write(altered(info), directory: directory, kernels: kernels, device: info)
        XCTAssertNotNil(CLTuningFile.load(url, kernels: kernels, device: info))
        var text = try String(contentsOf: url, encoding: .utf8)
        try text.replacingOccurrences(of: "\"format\" : 1", with: "\"format\" : 2").write(to: url, atomically: true, encoding: .utf8)
        try expectIgnored("another format")
        _ = try CLTuningFile.write(altered(info), directory: directory, kernels: "0123456789abcdef", device: info)
        try expectIgnored("other kernel sources")
        var unusable = altered(info)
        unusable.matmulColumns = 5
        unusable.elementwiseGroup = info.maxWorkGroupSize * 2
        XCTAssertEqual(unusable.problems(on: info).count, 2)
        _ = try CLTuningFile.write(unusable, directory: directory, kernels: kernels, device: info)
        try expectIgnored("values the device cannot run")
        text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(text.contains("\"matmulColumns\" : 5"))
    }

    /// A tuner on small workloads (fast on PoCL), optionally with results altered by a test hook.
    private func tuner(cache: URL) throws -> CLTuner {
        var tuner = try CLTuner(device: .index(try device().index), options: OpenCLBackendOptions(cacheDirectory: cache))
        tuner.matmulShapes = [(33, 17, 9, false, false), (7, 129, 33, true, true)]
        tuner.vectorCount = 4099
        tuner.repetitions = 1
        return tuner
    }

    func testTinyBudgetStillWritesAValidFileThatReplacesADamagedOne() throws {
        let info = try device(), directory = try temporaryDirectory("tuning-tiny")
        let url = CLTuningFile.url(directory: directory, device: info)
        try Data("damaged".utf8).write(to: url)
        let report = try tuner(cache: directory).run(seconds: 0.001)
        XCTAssertEqual(report.file, url)
        XCTAssertEqual(report.groups.map(\.name),
                       ["matmul register block", "matmul work-group", "matmul kernel", "reduction", "element-wise"])
        for group in report.groups {
            XCTAssertNotNil(group.candidates[0].seconds, "the choice in force is always measured")
            XCTAssertEqual(group.chosen, group.candidates[0].label)
        }
        XCTAssertEqual(CLTuningFile.load(url, kernels: try kernelsFingerprint(), device: info),
                       CLTunables(info: info, profile: .automatic))
        XCTAssertNotNil(try backend(cache: directory).tuningFile)
        XCTAssertTrue(report.description.contains("wrote \(url.path)"), report.description)
    }

    func testACandidateWithAWrongResultIsDroppedAndNeverChosen() throws {
        let info = try device(), directory = try temporaryDirectory("tuning-wrong")
        var tuner = try tuner(cache: directory)
        var first: [String: String] = [:]
        // Every candidate after the first of the register-block and element-wise groups gets one wrong element.
        tuner.alterResult = { group, label, values in
            guard group == "matmul register block" || group == "element-wise" else { return }
            if first[group] == nil { first[group] = label; return }
            if label != first[group] { values[values.count / 2] += 1 }
        }
        let report = try tuner.run(seconds: 600)
        for name in ["matmul register block", "element-wise"] {
            let group = try XCTUnwrap(report.groups.first { $0.name == name })
            XCTAssertGreaterThan(group.candidates.count, 1)
            XCTAssertEqual(group.chosen, group.candidates[0].label, "\(name): only the first gave right results")
            for candidate in group.candidates.dropFirst() {
                guard case .wrongResult = candidate.outcome else { return XCTFail("\(name): \(candidate)") }
            }
        }
        // The other groups measured their candidates and chose one that matched.
        let kernels = try XCTUnwrap(report.groups.first { $0.name == "matmul kernel" })
        XCTAssertTrue(kernels.candidates.contains { $0.label.hasPrefix("tiled") && $0.seconds != nil }, report.description)
        let chosen = try XCTUnwrap(kernels.candidates.first { $0.label == kernels.chosen })
        XCTAssertNotNil(chosen.seconds)
        XCTAssertTrue(report.description.contains("wrong result, dropped"))
        let written = try XCTUnwrap(CLTuningFile.load(try XCTUnwrap(report.file), kernels: try kernelsFingerprint(), device: info))
        XCTAssertEqual(written.elementwiseGroup, CLTunables(info: info, profile: .automatic).elementwiseGroup)
        print(report)
    }
}
