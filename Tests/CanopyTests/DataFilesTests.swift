import Canopy
import Foundation
import XCTest

/// Separate training, validation and test files; rows in file order; every step's losses in the log.
final class DataFilesTests: ScratchTestCase {
    /// Writes the example CSV's rows `range` (and its header) to `name`.
    private func slice(_ range: Range<Int>, to name: String, dropping column: String? = nil) throws {
        let lines = try String(contentsOf: TestModels.examples.appendingPathComponent("data/digits-sample.csv"),
                               encoding: .utf8).split(separator: "\n").map(String.init)
        var rows = [lines[0]] + lines[1...].enumerated().filter { range.contains($0.offset) }.map(\.element)
        if let column, let index = lines[0].split(separator: ",").firstIndex(where: { $0 == column }) {
            rows = rows.map { $0.split(separator: ",", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset != index }.map { String($0.element) }.joined(separator: ",") }
        }
        try write(rows.joined(separator: "\n") + "\n", to: name)
    }

    private func model(data: String, train: String = "epochs: 3") -> String {
        """
        name: files
        data: \(data)
        input: {shape: [64], scale: 0.0625}
        shared: [{dense: 32}, relu]
        tasks:
          digit: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy]}
          parity: {head: [{dense: 1}], loss: binary_cross_entropy, metrics: [accuracy]}
        train: {optimizer: {adam: {lr: 0.01}}, batch_size: 32, seed: 1, \(train)}
        """
    }

    func testSeparateValidationAndTestFilesAreReadAndTheTestIsScoredAtTheEnd() throws {
        try slice(0..<200, to: "train.csv")
        try slice(200..<250, to: "valid.csv")
        try slice(250..<300, to: "test.csv")
        let file = try write(model(data: "{train: train.csv, validation: valid.csv, test: test.csv}"))
        let result = try canopy("train", file, "--backend", "cpu", "--out", path("run"))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("200 training and 50 validation rows"), result.stdout)
        XCTAssertTrue(result.stdout.contains("test rows (50), scored once with the parameters of epoch 3"), result.stdout)
        let test = try metricsLines(path("run")).filter { $0["split"] as? String == "test" }
        XCTAssertEqual(test.compactMap { $0["task"] as? String }, ["digit", "parity"])
        XCTAssertEqual(test.first?["labelled_rows"] as? Int, 50)
        XCTAssertGreaterThan(test.first?["accuracy"] as? Double ?? 0, 0.3)

        let evaluated = try canopy("evaluate", file, "--backend", "cpu", "--checkpoint", path("run") + "/parameters.safetensors")
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        XCTAssertTrue(evaluated.stdout.contains("50 test rows"), evaluated.stdout)
        XCTAssertTrue(evaluated.stdout.contains("test"), evaluated.stdout)

        // The random split is unchanged when there is one file, and a test file goes with it.
        let single = try write(model(data: "{source: train.csv, validation: 0.25, test: test.csv}"), to: "single.yaml")
        let split = try canopy("train", single, "--backend", "cpu", "--out", path("split"), "--epochs", "1")
        XCTAssertEqual(split.status, 0, split.stderr)
        XCTAssertTrue(split.stdout.contains("150 training and 50 validation rows"), split.stdout)
    }

    func testFilesWhoseColumnsDifferAreRefusedNamingTheFile() throws {
        try slice(0..<200, to: "train.csv")
        try slice(200..<250, to: "valid.csv", dropping: "p3")
        let file = try write(model(data: "{train: train.csv, validation: valid.csv}"))
        for arguments in [["check", file], ["train", file, "--backend", "cpu", "--out", path("run")]] {
            assertRefused(try runCanopy(arguments, in: scratch), "valid.csv",
                          "input columns are not the training data's", "it lacks p3")
        }
        let both = try write(model(data: "{source: train.csv, train: train.csv}"), to: "both.yaml")
        assertRefused(try canopy("check", both), "both.yaml:2:", "not both")
    }

    func testLogEveryStepAndFileOrder() throws {
        try slice(0..<200, to: "train.csv")
        let file = try write(model(data: "{source: train.csv, validation: 0.2}",
                                   train: "epochs: 2, shuffle: false, log_every_step: true"))
        XCTAssertEqual(try canopy("train", file, "--backend", "cpu", "--out", path("run")).status, 0)
        let steps = try metricsLines(path("run")).filter { $0["split"] as? String == "step" }
        // 160 training rows in batches of 32: 5 steps an epoch, two tasks each.
        XCTAssertEqual(steps.count, 2 * 5 * 2)
        XCTAssertEqual(steps.compactMap { $0["step"] as? Int }, (1...10).flatMap { [$0, $0] })
        XCTAssertTrue(steps.allSatisfy { ($0["loss"] as? Double)?.isFinite == true && $0["learning_rate"] != nil })

        // Without shuffling, the same rows in the same order each epoch: two runs with different seeds for
        // initialisation see the same batches, so their first steps' losses differ only through the weights.
        let spec = try ModelFile.load(contentsOf: URL(fileURLWithPath: file))
        let trainer = try Trainer(spec: spec, backend: CPUBackend())
        let first = try trainer.runEpoch().stepRecords.map(\.losses)
        let again = try Trainer(spec: spec, backend: CPUBackend())
        XCTAssertEqual(try again.runEpoch().stepRecords.map(\.losses), first)
    }
}
