import Canopy
import Foundation
import XCTest

/// A checkpoint is outside data: every field is checked before any is used. Early stopping keeps the best
/// epoch, failed baselines are reported, and the clipping norm is summed in one order in every process.
final class CheckpointValidationTests: ScratchTestCase {
    private func spec(_ train: String) throws -> ModelSpec {
        try ModelFile.parse(Self.smallModel(train: train), fileName: "model.yaml", baseDirectory: nil)
    }

    /// Each damaged field is refused with a message naming it, and the trainer is left as it was.
    func testDamagedTrainingStateIsRefusedBeforeAnythingIsRestored() throws {
        let spec = try self.spec("optimizer: adam, batch_size: 64, epochs: 1, seed: 1, weighting: {gradnorm: {alpha: 1.5}}, "
                                 + "early_stopping: {monitor: digit.accuracy, patience: 3}")
        let source = try Trainer(spec: spec, backend: CPUBackend())
        _ = try source.train()
        let good = try source.checkpoint()

        func damaged(_ change: (inout TrainingCheckpoint) -> Void) -> TrainingCheckpoint {
            var checkpoint = good
            checkpoint.file = "damaged.safetensors"
            change(&checkpoint)
            return checkpoint
        }
        func setExtra(_ name: String, _ values: [Float]) -> (inout TrainingCheckpoint) -> Void {
            { checkpoint in
                let index = checkpoint.extraState.firstIndex { $0.name == name }!
                checkpoint.extraState[index].values = values
                checkpoint.extraState[index].shape = [values.count]
            }
        }
        let cases: [(TrainingCheckpoint, String)] = [
            (damaged { $0.metadata["epoch"] = "-1" }, "metadata 'epoch' is '-1'"),
            (damaged { $0.metadata["step"] = "1e300" }, "metadata 'step'"),
            (damaged { $0.metadata["step"] = "5" }, "is at step 5 after epoch 1"),
            (damaged { $0.metadata["schedule_epochs"] = "0" }, "schedule_epochs"),
            (damaged { $0.optimizerState[0].values[0] = .nan }, "optimizer state"),
            (damaged { $0.optimizerState[1].values[2] = .infinity }, "NaN or infinite"),
            (damaged(setExtra("weighting.weights", DoubleBits.encode([1e300, 1]))), "weighting.weights"),
            (damaged(setExtra("weighting.initial_losses", DoubleBits.encode([1, 2, 3]))), "weighting.initial_losses"),
            (damaged(setExtra("weighting.adam", DoubleBits.encode([-4, 0, 0, 0, 0]))), "weighting optimizer step"),
            (damaged(setExtra("early_stopping", DoubleBits.encode([0.5, 1e300, 0]))), "early-stopping state"),
            (damaged(setExtra("early_stopping", DoubleBits.encode([0.5, 1, .infinity]))), "early-stopping state"),
            (damaged { $0.parameters[0].values[0] = .nan }, "NaN or infinite"),
            (damaged { $0.metadata["batch_size"] = "32" }, "batch_size was 32, now 64"),
        ]
        for (checkpoint, expected) in cases {
            let target = try Trainer(spec: spec, backend: CPUBackend())
            let before = try target.parameters.snapshot()
            XCTAssertThrowsError(try target.restore(checkpoint), expected) { error in
                XCTAssertTrue("\(error)".contains(expected), "'\(expected)' not in: \(error)")
                XCTAssertTrue("\(error)".contains("damaged.safetensors"), "\(error)")
            }
            XCTAssertEqual(target.epochsCompleted, 0)
            XCTAssertEqual(try target.parameters.snapshot(), before, "nothing may be restored from a refused checkpoint")
        }
        let target = try Trainer(spec: spec, backend: CPUBackend())
        XCTAssertEqual(try target.restore(good), [])
        XCTAssertEqual(target.epochsCompleted, 1)
    }

    /// Early stopping ends with the best epoch's parameters (restore_best, on by default) and says which epoch.
    func testEarlyStoppingKeepsTheBestEpoch() throws {
        final class Snapshots: TrainingObserver {
            var byEpoch: [Int: [String: [Float]]] = [:]
            func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {
                byEpoch[report.epoch] = try trainer.parameters.snapshot()
            }
        }
        let spec = try self.spec("optimizer: {sgd: {lr: 0.9, momentum: 0.9}}, batch_size: 16, epochs: 12, seed: 2, "
                                 + "early_stopping: {monitor: digit.loss, patience: 3}")
        let trainer = try Trainer(spec: spec, backend: CPUBackend())
        let snapshots = Snapshots()
        let reports = try trainer.train(observer: snapshots)
        let losses = reports.map { $0.validation[0].loss }
        let best = losses.indices.min { losses[$0] < losses[$1] }! + 1
        XCTAssertEqual(trainer.parametersEpoch, best, "validation losses \(losses)")
        XCTAssertNotEqual(best, trainer.epochsCompleted, "this run should get worse after its best epoch: \(losses)")
        XCTAssertEqual(try trainer.parameters.snapshot(), snapshots.byEpoch[best])

        var keepLast = spec
        keepLast.train.earlyStopping?.restoreBest = false
        let last = try Trainer(spec: keepLast, backend: CPUBackend())
        _ = try last.train()
        XCTAssertEqual(last.parametersEpoch, last.epochsCompleted)
    }

    /// Monitoring the total loss still works when a task has no labelled validation row (its NaN loss is left out).
    func testEarlyStoppingOnTheTotalLossSkipsTasksWithoutValidationLabels() throws {
        let spec = try self.spec("optimizer: {sgd: {lr: 0.9, momentum: 0.9}}, batch_size: 16, epochs: 12, seed: 2, "
                                 + "early_stopping: {monitor: loss, patience: 3}")
        var data = try ModelData.load(for: spec)
        let rows = data.validation.rowCount
        data.validation.labels["value"] = LabelColumn(values: [Float](repeating: 0, count: rows),
                                                      present: [Bool](repeating: false, count: rows))
        let trainer = try Trainer(spec: spec, backend: CPUBackend(), data: data)
        let reports = try trainer.train()
        XCTAssertTrue(reports.allSatisfy { $0.validation[1].loss.isNaN && $0.validation[1].labelledRows == 0 })
        let losses = reports.map { $0.validation[0].loss }
        let best = losses.indices.min { losses[$0] < losses[$1] }! + 1
        XCTAssertEqual(trainer.parametersEpoch, best, "validation losses \(losses)")
        XCTAssertNotEqual(best, reports.count, "the run should get worse after its best epoch: \(losses)")
    }

    /// A baseline that diverges is reported as failed; Δm is taken over the others and written to the run folder.
    func testAFailedBaselineIsReportedAndTheOthersStillCount() throws {
        let model = try write(Self.smallModel(train: "optimizer: {sgd: {lr: 2.0}}, batch_size: 64, epochs: 2, seed: 1")
            .replacingOccurrences(of: "weight: 0.1", with: "weight: 0.01"))
        let result = try canopy("train", model, "--backend", "cpu", "--out", path("run"), "--baselines")
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("value: baseline failed"), result.stdout)
        XCTAssertTrue(result.stdout.contains("(over digit only)"), result.stdout)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("run") + "/baselines.json")))
            as! [String: Any]
        XCTAssertEqual(json["delta_m_tasks"] as? [String], ["digit"])
        XCTAssertNotNil(json["delta_m_percent"] as? Double)
        let tasks = json["tasks"] as! [[String: Any]]
        XCTAssertNotNil(tasks.first { $0["task"] as? String == "value" }?["failed"] as? String)
    }

    /// Two processes clipping the same run get the same parameters bit for bit (the norm is summed in graph order,
    /// not in a hash table's per-process order).
    func testClippedTrainingIsTheSameInEveryProcess() throws {
        let model = try write(Self.smallModel(train: "optimizer: adam, batch_size: 64, epochs: 1, seed: 1, clip_norm: 0.05"))
        var runs: [[[Float]]] = []
        for index in 0..<3 {
            XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--out", path("run\(index)")).status, 0)
            runs.append(try SafeTensorsFile.read(from: URL(fileURLWithPath: path("run\(index)") + "/parameters.safetensors"))
                .tensors.map(\.values))
        }
        XCTAssertEqual(runs[0], runs[1])
        XCTAssertEqual(runs[0], runs[2])
    }
}
