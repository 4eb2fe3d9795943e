import CanopyCore
import Foundation

/// Forwards a trainer's progress to several observers, in order.
public final class ObserverGroup: TrainingObserver {
    /// The observers, called in this order; the first that throws stops the others hearing of that event.
    public let observers: [TrainingObserver]
    /// Creates a group calling `observers` in order.
    public init(_ observers: [TrainingObserver]) { self.observers = observers }

    /// Passes a finished batch on to every observer.
    public func trainer(_ trainer: Trainer, didFinishBatch batch: Int, of batchCount: Int, epoch: Int, loss: Double) throws {
        for observer in observers { try observer.trainer(trainer, didFinishBatch: batch, of: batchCount, epoch: epoch, loss: loss) }
    }

    /// Passes a finished epoch on to every observer.
    public func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {
        for observer in observers { try observer.trainer(trainer, didFinishEpoch: report) }
    }
}

/// The files a training run leaves in its ``RunFolder``, committed together after every epoch:
/// - `parameters.safetensors`: the parameters by graph name;
/// - `checkpoint.safetensors`: parameters, optimizer, weighting and early-stopping state, progress, and a copy
///   of the epoch's metrics lines;
/// - `metrics.jsonl`: the epoch's lines, one JSON object per split and task (with the task's weight) and one
///   per pair of tasks with the cosine of their gradients on the shared parameters (`"pair": "a~b"`).
///
/// After an epoch, on the training thread: the epoch's metrics lines are formatted, the parameters and the
/// optimizer, weighting and early-stopping state are read back into arrays of the run's own (the next step
/// changes the live ones), and the parameters are checked finite. The rest of the commit runs on one background
/// serial worker, so the next epoch's steps run meanwhile: both safetensors files are encoded, written and
/// flushed (`fsync`) under temporary names (where a full disk shows), then renamed over the old ones (renames
/// need no space), then the log lines are appended in one write that is undone if it fails part-way.
///
/// - **Order**: at most one commit is in flight. The next epoch's commit (and ``saveParameters(epoch:)``,
///   ``logTest(_:epoch:)``, ``saveBaselines(_:)``) first waits for it, so files change in epoch order and the
///   run holds at most one epoch's copy besides its live state.
/// - **Errors**: a NaN loss or a non-finite parameter stops the run at once, with every file at the last epoch
///   committed. A failed background commit (a full disk, an I/O error; the error names the file) is thrown on the
///   training thread by the next call of this observer (a batch or an epoch), by ``finish()`` and by every write
///   after it; nothing is written after a failure, so the files stay at the last good epoch. Call ``finish()``
///   when training ends, before reading the folder or leaving the process: it waits for the commit in flight
///   and throws its failure.
/// - **A kill at any moment** leaves what a kill of the synchronous commit left, one epoch earlier at most: the
///   files change only through the same steps in the same order, one epoch at a time. So a kill leaves at worst
///   temporary files (``RunFolder`` removes them), a parameters file one epoch ahead of the checkpoint (resuming
///   from the checkpoint trains that epoch again and rewrites it), or a checkpoint one epoch ahead of the log, or
///   a log ending in part of a line (``MetricsLog/repair(url:throughEpoch:restoring:)`` cuts the log back to the
///   checkpoint's epoch and restores its lines from the checkpoint). The checkpoint is the commit point.
public final class RunOutput: TrainingObserver {
    /// The locked output folder.
    public let folder: RunFolder
    /// The trainer whose parameters and state are saved.
    public let trainer: Trainer
    /// The output folder's URL.
    public var directory: URL { folder.url }
    /// `<folder>/parameters.safetensors`.
    public var parametersURL: URL { folder.parametersURL }
    /// `<folder>/metrics.jsonl`.
    public var metricsURL: URL { folder.metricsURL }
    /// `<folder>/checkpoint.safetensors`.
    public var checkpointURL: URL { folder.checkpointURL }
    /// The epoch whose files are on disk: the checkpoint's epoch when resuming, 0 before any commit, and an
    /// epoch's number once its parameters and checkpoint files are renamed into place. While an epoch's commit is
    /// in flight this is still the epoch before; after ``finish()`` it is final.
    public var committedEpoch: Int { worker.committedEpoch }
    /// Used by one thread at a time: the worker while a commit is in flight, the caller after waiting for it.
    let log: MetricsLog
    private let worker: CommitWorker
    /// Writes a staged file's bytes (``writeAll(_:to:)``); tests put a failing writer here.
    var writeFile: @Sendable ([UInt8], Int32) -> Bool = { writeAll($0, to: $1) }

    /// The metadata key under which a checkpoint keeps a copy of its epoch's metrics lines.
    public static let metricsLinesKey = "metrics_lines"

    /// Prepares the folder's metrics log for `trainer`'s run.
    ///
    /// - Parameters:
    ///   - folder: the locked folder (see ``RunFolder/init(path:start:)``).
    ///   - trainer: the trainer to save after every epoch.
    ///   - resumedFrom: the checkpoint the trainer was restored from, when resuming: the log is cut back to its
    ///     epoch (and that epoch's lines restored from it when missing); otherwise a new, empty log is started.
    public init(folder: RunFolder, trainer: Trainer, resumedFrom checkpoint: TrainingCheckpoint? = nil) throws {
        self.folder = folder
        self.trainer = trainer
        worker = CommitWorker(committedEpoch: checkpoint == nil ? 0 : trainer.epochsCompleted)
        if let checkpoint {
            try MetricsLog.repair(url: folder.metricsURL, throughEpoch: trainer.epochsCompleted,
                                  restoring: checkpoint.metadata[Self.metricsLinesKey])
        }
        log = try MetricsLog(url: folder.metricsURL, appending: checkpoint != nil)
    }

    /// Creates (when missing) and locks `directory` as a new run's folder, refusing one that already holds a run.
    public convenience init(directory: URL, trainer: Trainer) throws {
        try self.init(folder: RunFolder(path: directory.path, start: .new), trainer: trainer)
    }

    /// Waits for the commit in flight, so that nothing writes the folder once the output is gone.
    deinit { try? worker.wait() }

    /// Waits for the epoch commit in flight, if any, and throws a failed commit's error (the same one on every
    /// call: after a failure the files stay at ``committedEpoch``). Call it when training ends (or stops), before
    /// reading the folder or leaving the process; calling it again does nothing more.
    ///
    /// - Throws: ``CheckpointError`` naming the file that could not be written.
    public func finish() throws {
        try worker.wait()
    }

    /// Writes the trainer's current parameters to `parameters.safetensors` (used after training, when early
    /// stopping has put back the best epoch's parameters), after the epoch commit in flight.
    ///
    /// - Throws: ``CheckpointError`` without touching the existing file when a parameter is NaN or infinite, or
    ///   a failed epoch commit's error (see ``finish()``).
    public func saveParameters(epoch: Int? = nil) throws {
        try finish()
        let tensors = try TrainingCheckpoint(parameters: trainer.parameters).parameters
        try requireFinite(tensors, file: parametersURL.path)
        let file = parametersFile(tensors, epoch: epoch ?? trainer.epochsCompleted)
        try StagedFile(try file.encoded(file: parametersURL.relativePath), for: parametersURL, write: writeFile)
            .commit()
    }

    /// `parameters.safetensors`' contents: the tensors and the metadata that lets `canopy predict` use them.
    private func parametersFile(_ tensors: [TrainingCheckpoint.Tensor], epoch: Int) -> SafeTensorsFile {
        var metadata = ["format": TrainingCheckpoint.parametersFormat, "model": trainer.spec.name,
                        "epoch": String(epoch), "step": String(trainer.optimizer.stepCount),
                        "backend": trainer.backend.name, "model_file": trainer.spec.sourceText]
        if trainer.spec.input.normalize != .none { metadata.merge(trainer.batcher.transform.metadata) { $1 } }
        metadata.merge(ClassNameMetadata.metadata(for: trainer.data.train)) { $1 }
        if let encoding = trainer.data.encoding { metadata.merge(encoding.metadata) { $1 } }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// Throws when a parameter is NaN or infinite; call it with no commit in flight, so the epoch it names is the
    /// one on disk.
    private func requireFinite(_ tensors: [TrainingCheckpoint.Tensor], file: String) throws {
        if let bad = tensors.first(where: { $0.values.contains { !$0.isFinite } }) {
            throw CheckpointError(file: file, message: "parameter '\(bad.name)' is not finite after epoch "
                + "\(trainer.epochsCompleted); kept the files of epoch \(committedEpoch)")
        }
    }

    /// Throws a failed epoch commit's error as soon as it is known, without waiting.
    public func trainer(_ trainer: Trainer, didFinishBatch batch: Int, of batchCount: Int, epoch: Int, loss: Double) throws {
        if let failure = worker.failure { throw failure }
    }

    /// Commits the epoch: waits for the previous epoch's commit, reads the parameters and state and checks them
    /// finite, then hands the files' encoding, writing, flushing, renaming and the log lines to the background
    /// worker (see the type's description). Throws, leaving every file at the last epoch committed, when a
    /// parameter is not finite or an earlier commit failed.
    public func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {
        let lines = try MetricsLog.lines(for: report, file: metricsURL.relativePath)
        // The previous commit finishes before this epoch's copy is made: one copy at most besides the live state.
        try finish()
        // One read of the parameters serves both files.
        var checkpoint = try trainer.checkpoint()
        checkpoint.metadata[Self.metricsLinesKey] = lines
        try requireFinite(checkpoint.parameters, file: parametersURL.path)
        let state = try checkpoint.safeTensors(file: checkpointURL.relativePath)
        try worker.submit(EpochCommit(
            epoch: report.epoch, parameters: parametersFile(checkpoint.parameters, epoch: report.epoch),
            parametersURL: parametersURL, checkpoint: state, checkpointURL: checkpointURL, lines: lines, log: log,
            folder: folder, write: writeFile))
    }
}

extension RunOutput {
    /// Appends the test rows' scores (`"split": "test"`) for the epoch whose parameters were scored, after the
    /// epoch commit in flight.
    public func logTest(_ scores: [TaskScore], epoch: Int) throws {
        try finish()
        var lines = ""
        for score in scores {
            lines += try MetricsLog.line(epoch: epoch, split: "test", task: score.task, loss: score.loss,
                                         metrics: score.metrics, extra: ["labelled_rows": Double(score.labelledRows)],
                                         file: metricsURL.relativePath)
        }
        try log.appendRecord(lines)
    }

    /// Writes `baselines.json` (see ``Baselines/json(multiTask:baselines:)``) atomically, after the epoch commit
    /// in flight.
    public func saveBaselines(_ json: String) throws {
        try finish()
        try writeAtomically(Array(json.utf8), to: folder.baselinesURL)
    }
}

extension RunOutput {
    /// `<folder>/report.html`.
    public var reportURL: URL { folder.url.appendingPathComponent(RunReport.fileName) }

    /// Writes `report.html` (``RunReport``) from the folder's `metrics.jsonl` and `baselines.json`, atomically,
    /// after the epoch commit in flight; a resumed run's page covers every epoch of the log.
    ///
    /// - Returns: notes on log lines the page left out.
    @discardableResult
    public func writeReport() throws -> [String] {
        try finish()
        return try RunReport.write(runs: [directory], to: reportURL)
    }
}
