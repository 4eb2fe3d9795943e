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
