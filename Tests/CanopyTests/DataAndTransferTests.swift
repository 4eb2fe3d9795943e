import Canopy
import Foundation
import XCTest

/// Missing labels, class weights and transfer (init_from + freeze).
final class DataAndTransferTests: XCTestCase {
    /// Rows without a parity label still train the digit task; parity counts only rows that have its label.
    func testMissingLabelsAreMaskedNotDropped() throws {
        let spec = try ModelFile.load(contentsOf: TestModels.examples.appendingPathComponent("digits-csv.yaml"))
        let trainer = try Trainer(spec: spec.with(epochs: 1), backend: CPUBackend())
        let train = trainer.data.train
        let missing = train.labels["parity"]!.present.filter { !$0 }.count
        XCTAssertGreaterThan(missing, 0, "the sample CSV leaves some parity cells empty")
        let report = try trainer.train().last!
        let digit = report.train.first { $0.task == "digit" }!, parity = report.train.first { $0.task == "parity" }!
        XCTAssertEqual(digit.labelledRows, train.rowCount)
        XCTAssertEqual(parity.labelledRows, train.rowCount - missing)
        XCTAssertTrue(parity.loss.isFinite)
    }

    /// Balanced class weights train, and weigh the rare class up.
    func testBalancedClassWeightsTrain() throws {
        var spec = TestModels.digitsMLP(epochs: 2)
        spec.tasks[1].classWeights = .balanced
        let reports = try Trainer(spec: spec, backend: CPUBackend()).train()
        XCTAssertGreaterThan(reports.last!.validation[1].metric("accuracy")!, 0.7)
    }

    /// A model started from another's parameters with its stem frozen keeps the stem exactly and trains the rest.
    func testInitFromAndFreezeKeepTheStem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-transfer-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try Trainer(spec: TestModels.digitsMLP(epochs: 1), backend: CPUBackend())
        _ = try source.train()
        let file = directory.appendingPathComponent("source.safetensors")
        try source.checkpoint().write(to: file)
        let before = try source.parameters.snapshot()

        var spec = TestModels.digitsMLP(epochs: 1, seed: 99)
        spec.transfer = TransferSpec(initFrom: file, freeze: ["shared"])
        let target = try Trainer(spec: spec, backend: CPUBackend())
        XCTAssertEqual(target.frozen, ["shared.0.weight", "shared.0.bias"])
        XCTAssertEqual(try target.parameters.snapshot()["tasks.digit.head.0.weight"], before["tasks.digit.head.0.weight"],
                       "init_from loads matching parameters")
        _ = try target.train()
        let after = try target.parameters.snapshot()
        XCTAssertEqual(after["shared.0.weight"], before["shared.0.weight"], "a frozen parameter must not move")
        XCTAssertNotEqual(after["tasks.digit.head.0.weight"], before["tasks.digit.head.0.weight"])

        spec.transfer.freeze = ["shared[7]"]
        XCTAssertThrowsError(try Trainer(spec: spec, backend: CPUBackend())) { error in
            XCTAssertTrue("\(error)".contains("names no parameter"), "\(error)")
        }
    }
}

/// Gradient clipping, early stopping and `canopy train --resume`.
final class TrainingOptionsTests: XCTestCase {
    /// Clipping to a tiny norm slows learning by exactly bounding each step; with a huge bound it changes nothing.
    func testGradientClipping() throws {
        var spec = TestModels.digitsMLP(epochs: 1)
        let plain = try Trainer(spec: spec, backend: CPUBackend()).train().last!
        spec.train.clipNorm = 1e6
        XCTAssertEqual(try Trainer(spec: spec, backend: CPUBackend()).train().last!.train, plain.train,
                       "a bound no gradient reaches must not change a bit")
        spec.train.optimizer = .sgd(learningRate: 0.5, momentum: 0, weightDecay: 0)
        spec.train.clipNorm = 1e-3
        let clipped = try Trainer(spec: spec, backend: CPUBackend())
        let before = try clipped.parameters.snapshot()
        _ = try clipped.train()
        let after = try clipped.parameters.snapshot()
        // Each plain SGD step moves the parameters by lr·(clipped gradient), of norm ≤ lr·1e-3, so the whole
        // run moves them by at most steps · lr · 1e-3.
        let moved = clipped.parameters.names.reduce(0.0) { sum, name in
            sum + zip(before[name]!, after[name]!).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        }.squareRoot()
        XCTAssertLessThanOrEqual(moved, Double(clipped.optimizer.stepCount) * 0.5 * 1e-3 * 1.0001)
    }

    func testEarlyStoppingEndsTheRunWhenTheMonitorStopsImproving() throws {
        var spec = TestModels.digitsMLP(epochs: 40, learningRate: 0.02)
        spec.train.earlyStopping = EarlyStoppingSpec(task: "digit", metric: "loss", patience: 2)
        let reports = try Trainer(spec: spec, backend: CPUBackend()).train()
        XCTAssertLessThan(reports.count, 40, "a high learning rate should stop improving well before 40 epochs")
        XCTAssertTrue(reports.last!.stopsEarly)
        let losses = reports.map { $0.validation[0].loss }
        let best = losses.firstIndex(of: losses.min()!)!
        XCTAssertEqual(reports.count - 1 - best, 2, "stops exactly `patience` epochs after the best one")
    }

    func testResumeFromTheCommandLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-cli-resume-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = TestModels.examples.appendingPathComponent("digits-mlp.json").path
        func run(_ arguments: [String]) throws -> String {
            let result = try runCanopy(arguments, in: FileManager.default.temporaryDirectory)
            XCTAssertEqual(result.status, 0, result.stderr)
            return result.stdout
        }
        let straight = try run(["train", model, "--backend", "cpu", "--epochs", "3", "--out", directory.appendingPathComponent("a").path])
        _ = try run(["train", model, "--backend", "cpu", "--epochs", "2", "--out", directory.appendingPathComponent("b").path])
        let resumed = try run(["train", model, "--backend", "cpu", "--epochs", "3", "--resume", directory.appendingPathComponent("b").path])
        XCTAssertTrue(resumed.contains("resuming"), resumed)
        let lastEpoch = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("epoch 3 ") }.map { $0.replacingOccurrences(of: #"\s+\[[0-9.]+ s\]"#, with: "", options: .regularExpression) } }
        XCTAssertEqual(lastEpoch(resumed), lastEpoch(straight))
        XCTAssertFalse(lastEpoch(resumed).isEmpty)
    }
}
