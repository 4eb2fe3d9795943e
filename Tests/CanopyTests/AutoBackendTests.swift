import Canopy
import Foundation
import XCTest

/// `--backend auto` for training measures the model on the cpu backend and on the OpenCL device, opens the
/// faster, says both times, and remembers the choice per model and machine.
final class AutoBackendTests: ScratchTestCase {
    func testAutoMeasuresOnceOpensTheFasterAndRemembers() throws {
        guard (try? OpenCLBackend.availableDevices())?.isEmpty == false else { throw XCTSkip("no OpenCL device") }
        let plan = try RunPlan(try ModelFile.parse(Self.smallModel(), fileName: "m.yaml", baseDirectory: nil), device: nil)
        let cache = scratch.appendingPathComponent("cache")
        let environment = ["CANOPY_CACHE_DIR": cache.path]

        let first = try BackendChoice.auto.open(forTraining: plan, environment: environment)
        XCTAssertTrue(first.reason.contains("(measured on this model)"), first.reason)
        XCTAssertTrue(first.reason.contains("ms a training step on the cpu backend against"), first.reason)
        // The file says what was measured; the faster backend is the one opened.
        let file = cache.appendingPathComponent("auto-backend.json")
        let saved = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: [String: Any]])
        XCTAssertEqual(saved.count, 1)
        let entry = try XCTUnwrap(saved.values.first)
        let cpu = try XCTUnwrap(entry["cpuSeconds"] as? Double), openCL = try XCTUnwrap(entry["openCLSeconds"] as? Double)
        XCTAssertGreaterThan(cpu, 0)
        XCTAssertGreaterThan(openCL, 0)
        XCTAssertEqual(first.backend.name, openCL < cpu ? "opencl" : "cpu")
        XCTAssertEqual(entry["backend"] as? String, first.backend.name)

        let second = try BackendChoice.auto.open(forTraining: plan, environment: environment)
        XCTAssertEqual(second.backend.name, first.backend.name)
        XCTAssertTrue(second.reason.contains("measured on this model before"), second.reason)

        // Another model is measured on its own; a damaged file is measured again and rewritten.
        let other = try RunPlan(try ModelFile.parse(Self.smallModel().replacingOccurrences(of: "{dense: 16}", with: "{dense: 24}"),
                                                    fileName: "m.yaml", baseDirectory: nil), device: nil)
        XCTAssertTrue(try BackendChoice.auto.open(forTraining: other, environment: environment).reason.contains("(measured on this model)"))
        try Data("{not json".utf8).write(to: file)
        XCTAssertTrue(try BackendChoice.auto.open(forTraining: plan, environment: environment).reason.contains("(measured on this model)"))
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
    }

    /// A device asked for makes auto insist on OpenCL without measuring; `cpu` and `opencl` are taken as given.
    func testAskedForDeviceAndExplicitBackendsAreNotMeasured() throws {
        guard (try? OpenCLBackend.availableDevices())?.isEmpty == false else { throw XCTSkip("no OpenCL device") }
        let plan = try RunPlan(try ModelFile.parse(Self.smallModel(), fileName: "m.yaml", baseDirectory: nil), device: nil)
        let environment = ["CANOPY_CACHE_DIR": "off"]
        let asked = try BackendChoice.auto.open(forTraining: plan, device: "0", environment: environment)
        XCTAssertEqual(asked.backend.name, "opencl")
        XCTAssertFalse(asked.reason.contains("measured"), asked.reason)
        XCTAssertEqual(try BackendChoice.cpu.open(forTraining: plan, environment: environment).backend.name, "cpu")
        XCTAssertEqual(try BackendChoice.opencl.open(forTraining: plan, environment: environment).backend.name, "opencl")
    }

    /// A rebuilt or upgraded Canopy (here: a copy of the executable, another file) measures again instead of
    /// trusting the choice the other build remembered.
    func testAnotherBuildMeasuresAgain() throws {
        guard (try? OpenCLBackend.availableDevices())?.isEmpty == false else { throw XCTSkip("no OpenCL device") }
        let model = try write(Self.smallModel(train: "optimizer: adam, batch_size: 32, epochs: 1, seed: 1"))
        let environment = ["CANOPY_CACHE_DIR": path("cache")]
        func train(_ executable: URL) throws -> String {
            let process = Process()
            process.executableURL = executable
            process.arguments = ["train", model, "--backend", "auto", "--out", path("run"), "--overwrite"]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, text)
            return text.split(separator: "\n").first { $0.hasPrefix("backend: ") }.map(String.init) ?? text
        }
        let built = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("canopy")
        guard FileManager.default.isExecutableFile(atPath: built.path) else { throw XCTSkip("no canopy executable next to the tests") }
        XCTAssertTrue(try train(built).contains("(measured on this model)"))
        XCTAssertTrue(try train(built).contains("measured on this model before"))
        let other = scratch.appendingPathComponent("canopy-other-build")
        try FileManager.default.copyItem(at: built, to: other)
        XCTAssertTrue(try train(other).contains("(measured on this model)"), "another build reused the remembered choice")
    }
}
