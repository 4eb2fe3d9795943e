import CanopyCore
import CanopyCPU
import CanopyModel
import Foundation
import XCTest
@testable import CanopyTrain
#if canImport(Glibc)
import Glibc
#endif

/// The epoch commit off the training thread: files in epoch order holding each epoch's own state, a background
/// write failure thrown on the training thread naming the file with every file at the previous epoch, and later
/// writes waiting for the commit in flight.
final class RunOutputCommitTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-commit-\(UUID())")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// After a run (and `finish()`), the files hold the last epoch: parameters bit-equal to the trainer's, the
    /// checkpoint equal to its state, and the log exactly the epochs' lines in epoch order.
    func testFilesHoldTheLastEpochAndTheLogIsInEpochOrder() throws {
        let trainer = try Trainer(spec: try Self.spec(epochs: 3), backend: CPUBackend())
        let output = try RunOutput(directory: directory, trainer: trainer)
        let reports = try trainer.train(observer: output)
        try output.finish()
        XCTAssertEqual(output.committedEpoch, 3)

        let expected = try trainer.checkpoint()
        let parameters = try SafeTensorsFile.read(from: output.parametersURL)
        XCTAssertEqual(parameters.metadata["epoch"], "3")
        XCTAssertEqual(parameters.tensors.map(\.name), expected.parameters.map(\.name))
        XCTAssertEqual(parameters.tensors.map { $0.values.map(\.bitPattern) },
                       expected.parameters.map { $0.values.map(\.bitPattern) })
        let checkpoint = try TrainingCheckpoint.read(from: output.checkpointURL)
        XCTAssertEqual(checkpoint.metadata["epoch"], "3")
        XCTAssertEqual(checkpoint.parameters.map(\.values), expected.parameters.map(\.values))
        XCTAssertEqual(checkpoint.optimizerState.map(\.values), expected.optimizerState.map(\.values))

        let lines = try reports.map { try MetricsLog.lines(for: $0, file: output.metricsURL.relativePath) }
        XCTAssertEqual(try String(contentsOf: output.metricsURL, encoding: .utf8), lines.joined())
        XCTAssertEqual(checkpoint.metadata[RunOutput.metricsLinesKey], lines.last)
        XCTAssertEqual(try leftovers(), [])
    }

    /// While the next epoch trains, the files hold the previous epoch's state, not the live parameters: the
    /// worker writes the arrays read at the epoch's end.
    func testTheCommitHoldsTheEpochsOwnStateWhileTrainingMovesOn() throws {
        let trainer = try Trainer(spec: try Self.spec(epochs: 2), backend: CPUBackend())
        let output = try RunOutput(directory: directory, trainer: trainer)
        var firstEpoch: [[Float]] = []
        var checked = false
        let probe = Probe(
            epoch: { trainer, report in
                if report.epoch == 1 { firstEpoch = try trainer.checkpoint().parameters.map(\.values) }
            },
            batch: { trainer, batch, epoch in
                guard epoch == 2, batch == 2 else { return }
                try output.finish()
                let onDisk = try SafeTensorsFile.read(from: output.parametersURL)
                XCTAssertEqual(onDisk.metadata["epoch"], "1")
                XCTAssertEqual(onDisk.tensors.map(\.values), firstEpoch)
                XCTAssertNotEqual(try trainer.checkpoint().parameters.map(\.values), firstEpoch,
                                  "three steps of epoch 2 have changed the live parameters")
                checked = true
            })
        _ = try trainer.train(observer: ObserverGroup([output, probe]))
        try output.finish()
        XCTAssertTrue(checked)
        XCTAssertEqual(try SafeTensorsFile.read(from: output.parametersURL).metadata["epoch"], "2")
    }

    /// A full disk while epoch 2's parameters are written in the background: thrown by `finish()` and by every
    /// later call (batch, epoch, writes), naming the file, with every file byte for byte at epoch 1.
    func testAFailedBackgroundWriteIsThrownNamingTheFileWithTheFilesAtThePreviousEpoch() throws {
        let trainer = try Trainer(spec: try Self.spec(epochs: 3), backend: CPUBackend())
        let output = try RunOutput(directory: directory, trainer: trainer)
        try output.trainer(trainer, didFinishEpoch: try trainer.runEpoch())
        try output.finish()
        let before = try files(output)

        output.writeFile = Self.fullDisk(after: 0)
        let second = try trainer.runEpoch()
        try output.trainer(trainer, didFinishEpoch: second) // handed to the worker: fails there, later
        let failure = CheckpointError(file: output.parametersURL.relativePath,
                                      message: "cannot write the temporary file: No space left on device")
        for _ in 0..<2 { XCTAssertThrowsError(try output.finish()) { XCTAssertEqual($0 as? CheckpointError, failure) } }
        XCTAssertThrowsError(try output.trainer(trainer, didFinishBatch: 0, of: 1, epoch: 3, loss: 1)) {
            XCTAssertEqual($0 as? CheckpointError, failure)
        }
        output.writeFile = { writeAll($0, to: $1) }
        XCTAssertThrowsError(try output.trainer(trainer, didFinishEpoch: second)) {
            XCTAssertEqual($0 as? CheckpointError, failure)
        }
        XCTAssertThrowsError(try output.saveParameters()) { XCTAssertEqual($0 as? CheckpointError, failure) }
        XCTAssertThrowsError(try output.logTest([], epoch: 2)) { XCTAssertEqual($0 as? CheckpointError, failure) }
        XCTAssertEqual(output.committedEpoch, 1)
        XCTAssertEqual(try files(output), before)
        XCTAssertEqual(try leftovers(), [])
    }

    /// The checkpoint's write failing after the parameters were staged: the staged parameters never replace
    /// epoch 1's, and `train` itself throws the failure at its next call of the output.
    func testTrainingStopsOnABackgroundFailureOfTheCheckpointWithBothFilesAtTheLastGoodEpoch() throws {
        let trainer = try Trainer(spec: try Self.spec(epochs: 3), backend: CPUBackend())
        let output = try RunOutput(directory: directory, trainer: trainer)
        var before: [Data] = []
        let probe = Probe(epoch: { _, report in
            guard report.epoch == 1 else { return }
            try output.finish()
            before = try self.files(output)
            output.writeFile = Self.fullDisk(after: 1) // the parameters file is written, the checkpoint is not
        })
        XCTAssertThrowsError(try trainer.train(observer: ObserverGroup([output, probe]))) { error in
            XCTAssertEqual(error as? CheckpointError, CheckpointError(
                file: output.checkpointURL.relativePath,
                message: "cannot write the temporary file: No space left on device"))
        }
        XCTAssertGreaterThanOrEqual(trainer.epochsCompleted, 2)
        XCTAssertThrowsError(try output.finish())
        XCTAssertEqual(output.committedEpoch, 1)
        XCTAssertEqual(try files(output), before)
        XCTAssertEqual(try leftovers(), [])
    }

    /// `finish()` may be called any number of times; `saveParameters` and `logTest` right after an epoch's
    /// commit was handed over wait for it, so their writes come after it on disk.
    func testFinishIsIdempotentAndLaterWritesFollowTheCommitInFlight() throws {
        let trainer = try Trainer(spec: try Self.spec(epochs: 2), backend: CPUBackend())
        let output = try RunOutput(directory: directory, trainer: trainer)
        let first = try trainer.runEpoch()
        try output.trainer(trainer, didFinishEpoch: first)
        let firstParameters = try trainer.parameters.snapshot()
        let second = try trainer.runEpoch()
        let secondParameters = try trainer.checkpoint().parameters.map(\.values)
        try output.trainer(trainer, didFinishEpoch: second)
        // As early stopping's restore_best does: epoch 1's parameters back, saved over the commit in flight.
        try trainer.parameters.load(firstParameters)
        try output.saveParameters(epoch: 1)
        let scores = try trainer.evaluate(trainer.data.validation)
        try output.logTest(scores, epoch: 1)
        for _ in 0..<3 {
            try output.finish()
            XCTAssertEqual(output.committedEpoch, 2)
        }

        let parameters = try SafeTensorsFile.read(from: output.parametersURL)
        XCTAssertEqual(parameters.metadata["epoch"], "1")
        XCTAssertEqual(parameters.tensors.map(\.values), trainer.parameters.names.map { firstParameters[$0]! })
        let checkpoint = try TrainingCheckpoint.read(from: output.checkpointURL)
        XCTAssertEqual(checkpoint.metadata["epoch"], "2")
        XCTAssertEqual(checkpoint.parameters.map(\.values), secondParameters)
        let log = try String(contentsOf: output.metricsURL, encoding: .utf8)
        let epochLines = try [first, second].map { try MetricsLog.lines(for: $0, file: output.metricsURL.relativePath) }
        XCTAssertTrue(log.hasPrefix(epochLines.joined()), log)
        let rest = log.dropFirst(epochLines.joined().count).split(separator: "\n")
        XCTAssertEqual(rest.count, scores.count)
        XCTAssertTrue(rest.allSatisfy { $0.hasPrefix("{\"epoch\":1,\"split\":\"test\"") }, "\(rest)")
    }

    // MARK: Helpers

    private static func spec(epochs: Int) throws -> ModelSpec {
        try ModelFile.parse("""
            name: commit
            data: {source: builtin:digits, validation: 0.2, seed: 7}
            input: {shape: [64], scale: 0.0625}
            shared: [{dense: 16}, relu]
            tasks:
              digit: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy]}
              value: {head: [{dense: 1}], loss: mse, metrics: [mae], weight: 0.1}
            train: {optimizer: {adam: {lr: 0.01}}, batch_size: 64, epochs: \(epochs), seed: 1}
            """, fileName: "commit.yaml", baseDirectory: nil)
    }

    /// A writer that writes its first `count` files, then fails every write as a full disk does.
    private static func fullDisk(after count: Int) -> @Sendable ([UInt8], Int32) -> Bool {
        let calls = AtomicCounter()   // the writer runs on the commit worker
        return { bytes, fd in
            guard calls.next() > count else { return writeAll(bytes, to: fd) }
            errno = ENOSPC
            return false
        }
    }

    /// The three files' bytes.
    private func files(_ output: RunOutput) throws -> [Data] {
        try [output.parametersURL, output.checkpointURL, output.metricsURL].map { try Data(contentsOf: $0) }
    }

    /// Temporary files left in the folder.
    private func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }
    }
}

/// An observer running closures, to act at a chosen batch or epoch.
private final class Probe: TrainingObserver {
    let epoch: (Trainer, EpochReport) throws -> Void
    let batch: (Trainer, Int, Int) throws -> Void

    init(epoch: @escaping (Trainer, EpochReport) throws -> Void = { _, _ in },
         batch: @escaping (Trainer, Int, Int) throws -> Void = { _, _, _ in }) {
        self.epoch = epoch
        self.batch = batch
    }

    func trainer(_ trainer: Trainer, didFinishBatch batch: Int, of batchCount: Int, epoch: Int, loss: Double) throws {
        try self.batch(trainer, batch, epoch)
    }

    func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws { try epoch(trainer, report) }
}
