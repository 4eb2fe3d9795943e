import Canopy
import CanopyTestSupport
import Foundation
import XCTest

/// `report.html` after training, `canopy report` rebuilding and comparing runs, and `--tensorboard` event files
/// read back by TensorBoard's own Python reader.
final class ReportCommandTests: ScratchTestCase {
    func testTrainingWritesAReportAndCanopyReportRebuildsAndComparesRuns() throws {
        let model = try write(Self.smallModel())
        let first = try canopy("train", model, "--backend", "cpu", "--out", "a")
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("wrote a/report.html"), first.stdout)
        let page = try String(contentsOfFile: path("a/report.html"), encoding: .utf8)
        for chart in ["digit-loss", "digit-accuracy", "value-mae", "gradient-cosine", "cosine-matrix", "epoch-seconds"] {
            XCTAssertTrue(page.contains("data-chart=\"\(chart)\""), "missing \(chart)")
        }
        // A resumed run's page covers every epoch.
        let resumed = try canopy("train", model, "--backend", "cpu", "--resume", "a", "--epochs", "3")
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(try String(contentsOfFile: path("a/report.html"), encoding: .utf8).contains("3 epochs"))

        try FileManager.default.removeItem(atPath: path("a/report.html"))
        let rebuilt = try canopy("report", "a")
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("a/report.html")))

        XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--out", "b", "--seed", "9").status, 0)
        let compared = try canopy("report", "a", "b", "--out", "both.html")
        XCTAssertEqual(compared.status, 0, compared.stderr)
        let both = try String(contentsOfFile: path("both.html"), encoding: .utf8)
        XCTAssertTrue(both.contains("Canopy runs: a, b") && both.contains("b validation"), both)
    }

    func testDamagedOrMissingLogsAreReportedNotCrashedOn() throws {
        XCTAssertEqual(try canopy("train", try write(Self.smallModel()), "--backend", "cpu", "--out", "a").status, 0)
        let log = try FileHandle(forWritingTo: scratch.appendingPathComponent("a/metrics.jsonl"))
        try log.seekToEnd()
        try log.write(contentsOf: Data("{\"epoch\":3,\"split\":\"tr".utf8))
        try log.close()
        let damaged = try canopy("report", "a")
        XCTAssertEqual(damaged.status, 0, damaged.stderr)
        XCTAssertTrue(damaged.stdout.contains("metrics.jsonl:11: not a JSON object (cut short?); skipped"), damaged.stdout)

        try "garbage\n".write(toFile: path("a/metrics.jsonl"), atomically: true, encoding: .utf8)
        assertRefused(try canopy("report", "a"), "a/metrics.jsonl", "no valid task line", "metrics.jsonl:1")
        assertRefused(try canopy("report", "nowhere"), "nowhere/metrics.jsonl", "cannot read the metrics log")
    }

    func testTensorBoardFilesMatchTheMetricsLogInTensorBoardsReader() throws {
        let model = try write(Self.smallModel(train: "optimizer: {adam: {lr: 0.01}}, batch_size: 64, epochs: 2, seed: 1, "
                                              + "weighting: uncertainty", extra: "log: {tensorboard: tb}"))
        let trained = try canopy("train", model, "--backend", "cpu", "--out", "run")
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stdout.contains("tensorboard: writing tb/events.out.tfevents."), trained.stdout)
        let resumed = try canopy("train", model, "--backend", "cpu", "--resume", "run", "--epochs", "3",
                                 "--tensorboard", "tb")
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: path("tb")).sorted()
        XCTAssertEqual(files.count, 2, "resuming starts a new event file: \(files)")
        XCTAssertTrue(files.allSatisfy { $0.hasPrefix("events.out.tfevents.") }, "\(files)")
        let empty = try canopy("train", model, "--backend", "cpu", "--out", "x", "--tensorboard", " ")
        XCTAssertEqual(empty.status, 64, "a usage error")
        XCTAssertTrue(empty.stderr.contains("--tensorboard is empty"), empty.stderr)

        let python = ProcessInfo.processInfo.environment["CANOPY_PYTHON"] ?? "python3"
        let probe = try runProcess(python, ["-c", "import tensorboard"])
        try XCTSkipUnless(probe.status == 0, "Python package tensorboard not installed (Scripts/test puts it in .venv "
            + "and sets CANOPY_PYTHON)")
        let script = TestModels.examples.deletingLastPathComponent().appendingPathComponent("Scripts/check_tensorboard.py")
        let check = try runProcess(python, [script.path, path("tb"), path("run/metrics.jsonl")])
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.hasPrefix("ok: "), check.output)
        XCTAssertTrue(check.output.contains("histogram"), check.output)
        // The check can fail: a metrics log that disagrees with the event files is caught.
        let log = try String(contentsOfFile: path("run/metrics.jsonl"), encoding: .utf8)
        try log.replacingOccurrences(of: "\"epoch\":2,\"split\":\"validation\",\"task\":\"digit\",\"loss\":",
                                     with: "\"epoch\":2,\"split\":\"validation\",\"task\":\"digit\",\"loss\":1")
            .write(toFile: path("changed.jsonl"), atomically: true, encoding: .utf8)
        let mismatch = try runProcess(python, [script.path, path("tb"), path("changed.jsonl")])
        XCTAssertEqual(mismatch.status, 1, mismatch.output)
        XCTAssertTrue(mismatch.output.contains("digit/validation/loss step 2"), mismatch.output)
    }
}

