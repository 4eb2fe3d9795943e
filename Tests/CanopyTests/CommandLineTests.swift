import Canopy
import Foundation
import XCTest

/// Runs the `canopy` executable as a person would and checks what it prints and its exit status.
final class CommandLineTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func testCheckPrintsEveryLayerWithShapesAndParameterCounts() throws {
        let result = try canopy("check", TestModels.examples.appendingPathComponent("digits.yaml").path)
        XCTAssertEqual(result.status, 0, result.stderr)
        for expected in ["shared[0]", "conv2d 16×3×3 s1 p1", "16×8×8", "shared total", "tasks.parity total", "17,453"] {
            XCTAssertTrue(result.stdout.contains(expected), "missing '\(expected)' in:\n\(result.stdout)")
        }
    }

    func testTrainWritesParametersAndAMetricsLogOfJSONLines() throws {
        let out = scratch.appendingPathComponent("run")
        let result = try canopy("train", TestModels.examples.appendingPathComponent("digits-mlp.json").path,
                                "--backend", "cpu", "--epochs", "2", "--seed", "5", "--out", out.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("backend: cpu"), result.stdout)
        XCTAssertTrue(result.stdout.contains("epoch 2  digit"), result.stdout)
        let all = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        let lines = all.filter { $0.contains("\"task\"") }, pairs = all.filter { $0.contains("\"pair\"") }
        XCTAssertEqual(lines.count, 2 * 2 * 3, "epochs × splits × tasks")
        XCTAssertEqual(pairs.count, 2 * 3, "epochs × pairs of tasks (gradient cosines)")
        XCTAssertTrue(pairs[0].contains("\"gradient_cosine\":"), String(pairs[0]))
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        XCTAssertEqual(first["epoch"] as? Int, 1)
        XCTAssertEqual(first["split"] as? String, "train")
        XCTAssertEqual(first["task"] as? String, "digit")
        XCTAssertNotNil(first["loss"] as? Double)
        XCTAssertNotNil(first["accuracy"] as? Double)
        let parameters = try SafeTensorsFile.read(from: out.appendingPathComponent("parameters.safetensors"))
        XCTAssertEqual(parameters.tensors.map(\.name).first, "shared.0.weight")
        XCTAssertEqual(parameters.metadata["epoch"], "2")
    }

    func testBadModelFilesExitWithStatusOneAndAPlacedMessage() throws {
        let cases: [(text: String, expected: String)] = [
            ("name: m\ndata: {source: builtin:digits}\ninput: {shape: [64]}\ntasks:\n  d: {head: [{dense2: 10}], loss: cross_entropy}\ntrain: {optimizer: adam, batch_size: 8, epochs: 1}\n",
             "bad.yaml:5:"),
            ("name: m\ndata: {source: builtin:digits}\ninput: {shape: [64]}\ntasks:\n  d: {head: [{dense: 10}], loss: cross_entropy}\ntrain: {optimizer: adam, batch_size: 8, epochs: 1}\nshared: [{conv2d: {filters: 4, kernel: 3}}]\n",
             "conv2d"),
            ("name: [unclosed\n", "bad.yaml:"),
            ("", "empty"),
        ]
        for (text, expected) in cases {
            let file = scratch.appendingPathComponent("bad.yaml")
            try text.write(to: file, atomically: true, encoding: .utf8)
            for arguments in [["check", file.path], ["train", file.path, "--backend", "cpu"]] {
                let result = try canopy(arguments)
                XCTAssertEqual(result.status, 1, "\(arguments[0]) \(text): \(result.stderr)")
                XCTAssertTrue(result.stderr.hasPrefix("error: "), result.stderr)
                XCTAssertTrue(result.stderr.contains(expected), "'\(expected)' not in: \(result.stderr)")
                XCTAssertFalse(result.stderr.contains("Backtrac") || result.stderr.contains("Fatal"), result.stderr)
            }
        }
    }

    func testBadDataExitsWithStatusOneNamingFileRowAndTask() throws {
        let csv = scratch.appendingPathComponent("data.csv")
        try "a,b,label\n0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,7\n0.1,0.1,1\n".write(to: csv, atomically: true, encoding: .utf8)
        let model = scratch.appendingPathComponent("m.yaml")
        try """
        name: m
        data: {source: data.csv, validation: 0.25}
        input: {shape: [2]}
        tasks:
          t: {head: [{dense: 2}], loss: cross_entropy, label: label}
        train: {optimizer: adam, batch_size: 2, epochs: 1}
        """.write(to: model, atomically: true, encoding: .utf8)
        let outOfRange = try canopy("train", model.path, "--backend", "cpu", "--out", scratch.path)
        XCTAssertEqual(outOfRange.status, 1)
        XCTAssertTrue(outOfRange.stderr.contains("row 3") && outOfRange.stderr.contains("tasks.t")
                      && outOfRange.stderr.contains("0..<2"), outOfRange.stderr)

        try FileManager.default.removeItem(at: csv)
        let missing = try canopy("train", model.path, "--backend", "cpu", "--out", scratch.path)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("data.csv"), missing.stderr)
    }

    func testBadFlagsGetTheArgumentParsersUsageStatus() throws {
        let model = TestModels.examples.appendingPathComponent("digits.yaml").path
        let backend = try canopy("train", model, "--backend", "tpu")
        XCTAssertNotEqual(backend.status, 0)
        XCTAssertTrue(backend.stderr.contains("tpu"), backend.stderr)
        let epochs = try canopy("train", model, "--epochs", "0")
        XCTAssertNotEqual(epochs.status, 0)
        XCTAssertTrue(epochs.stderr.contains("--epochs"), epochs.stderr)
        let device = try canopy("train", model, "--backend", "opencl", "--device", "no-such-device-xyz")
        XCTAssertEqual(device.status, 1, device.stderr)
        XCTAssertTrue(device.stderr.contains("no-such-device-xyz"), device.stderr)
    }

    private func canopy(_ arguments: String...) throws -> CommandResult { try runCanopy(arguments, in: scratch) }

    private func canopy(_ arguments: [String]) throws -> CommandResult { try runCanopy(arguments, in: scratch) }
}
