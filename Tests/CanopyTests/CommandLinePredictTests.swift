import Canopy
import Foundation
import XCTest

/// `canopy evaluate` and `canopy predict` run as a person would, on a run `canopy train` just wrote.
final class CommandLinePredictTests: XCTestCase {
    private var scratch: URL!
    private var model: String { TestModels.examples.appendingPathComponent("digits-mlp.json").path }
    private var parameters: String { scratch.appendingPathComponent("run/parameters.safetensors").path }

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-predict-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    /// Trains digits-mlp for one epoch into `scratch/run` and returns what it printed.
    private func train() throws -> String {
        let result = try canopy("train", model, "--backend", "cpu", "--epochs", "1", "--seed", "5",
                                "--out", scratch.appendingPathComponent("run").path)
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout
    }

    func testEvaluatePrintsTheValidationScoresTrainingPrintedForTheLastEpoch() throws {
        let trained = try train()
        let result = try canopy("evaluate", model, "--checkpoint", parameters, "--backend", "cpu")
        XCTAssertEqual(result.status, 0, result.stderr)
        for task in ["digit", "parity", "value"] {
            // Training: "epoch 1  digit   train loss … | val loss 0.6132 acc 0.8719 f1 0.8631   [0.04 s]".
            let trainLine = try XCTUnwrap(trained.split(separator: "\n").last { $0.hasPrefix("epoch 1  \(task) ") },
                                          trained)
            var printed = String(try XCTUnwrap(trainLine.components(separatedBy: "| val ").last))
            if let time = printed.range(of: "   [") { printed = String(printed[..<time.lowerBound]) }
            // Evaluate: "validation  digit   loss 0.6132 acc 0.8719 f1 0.8631  (359 labelled rows)".
            let line = try XCTUnwrap(result.stdout.split(separator: "\n").first {
                $0.split(separator: " ").prefix(2) == ["validation", Substring(task)]
            }, result.stdout)
            let numbers = try XCTUnwrap(line.range(of: "loss ").map { line[$0.lowerBound...] })
            let evaluated = numbers.components(separatedBy: "(")[0].trimmingCharacters(in: .whitespaces)
            XCTAssertEqual(evaluated, printed.trimmingCharacters(in: .whitespaces), task)
            XCTAssertTrue(line.hasSuffix("(359 labelled rows)"), String(line))
        }
        XCTAssertTrue(result.stdout.contains("train       digit"), result.stdout)
    }

    func testPredictWritesOneRowPerDataRowAsCSVAndAsJSONLines() throws {
        _ = try train()
        let csv = scratch.appendingPathComponent("predictions.csv")
        let written = try canopy("predict", model, "--checkpoint", parameters, "--backend", "cpu", "--out", csv.path)
        XCTAssertEqual(written.status, 0, written.stderr)
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1 + 1797, "header and one line per digit")
        XCTAssertTrue(lines[0].hasPrefix("row,digit.class,digit.p0,"), String(lines[0]))
        XCTAssertTrue(lines[0].hasSuffix(",parity.class,parity.p0,parity.p1,value.value"), String(lines[0]))
        XCTAssertTrue(lines.dropFirst().allSatisfy { $0.split(separator: ",").count == 1 + 11 + 3 + 1 })

        let jsonl = scratch.appendingPathComponent("predictions.jsonl")
        XCTAssertEqual(try canopy("predict", model, "--checkpoint", parameters, "--backend", "cpu",
                                  "--out", jsonl.path).status, 0)
        let objects = try String(contentsOf: jsonl, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(objects.count, 1797)
        XCTAssertEqual(objects.last?["row"] as? Int, 1796)
        // The CSV and the JSON lines agree on the predicted digit of every row.
        let csvClasses = lines.dropFirst().map { Int($0.split(separator: ",")[1])! }
        let jsonClasses = objects.map { ($0["digit"] as? [String: Any])?["class"] as? Int }
        XCTAssertEqual(jsonClasses, csvClasses)
    }

    func testPredictReadsACSVWithoutLabelsAndWritesCSVToStandardOutput() throws {
        _ = try train()
        let header = (0..<64).map { "p\($0)" }.joined(separator: ",")
        let rows = (0..<5).map { r in (0..<64).map { String(($0 + r) % 17) }.joined(separator: ",") }
        let data = scratch.appendingPathComponent("new.csv")
        try ([header] + rows).joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        let result = try canopy("predict", model, "--checkpoint", parameters, "--backend", "cpu", "--data", data.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 1 + 5, result.stdout)
        XCTAssertEqual(lines.first?.split(separator: ",").first, "row")
        XCTAssertTrue(result.stderr.contains("predicted 5 rows"), result.stderr)

        let evaluate = try canopy("evaluate", model, "--checkpoint", parameters, "--backend", "cpu", "--data", data.path)
        XCTAssertEqual(evaluate.status, 1, "nothing to score without labels")
        XCTAssertTrue(evaluate.stderr.hasPrefix("error: ") && evaluate.stderr.contains("none of the tasks' label columns"),
                      evaluate.stderr)
    }

    func testMismatchedCheckpointsAndOutputsFailWithStatusOneAndAReason() throws {
        _ = try train()
        let other = TestModels.examples.appendingPathComponent("digits.yaml").path
        let mismatch = try canopy("evaluate", other, "--checkpoint", parameters, "--backend", "cpu")
        XCTAssertEqual(mismatch.status, 1)
        for expected in ["error: ", "parameters.safetensors", "missing: ", "unexpected: ", "shape differs: ",
                         "trained from model 'digits-mlp'"] {
            XCTAssertTrue(mismatch.stderr.contains(expected), "'\(expected)' not in: \(mismatch.stderr)")
        }
        let format = try canopy("predict", model, "--checkpoint", parameters, "--backend", "cpu",
                                "--out", scratch.appendingPathComponent("p.txt").path)
        XCTAssertEqual(format.status, 1)
        XCTAssertTrue(format.stderr.contains("use .csv, .jsonl or .json"), format.stderr)
        let foreign = try canopy("predict", model, "--checkpoint", scratch.appendingPathComponent("run/metrics.jsonl").path,
                                 "--backend", "cpu")
        XCTAssertEqual(foreign.status, 1)
        XCTAssertTrue(foreign.stderr.contains("metrics.jsonl"), foreign.stderr)
        XCTAssertFalse(foreign.stderr.contains("Fatal") || foreign.stderr.contains("Backtrac"), foreign.stderr)
    }

    private func canopy(_ arguments: String...) throws -> CommandResult { try runCanopy(arguments, in: scratch) }
}
