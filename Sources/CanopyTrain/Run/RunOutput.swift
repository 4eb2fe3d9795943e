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
/// The commit: both safetensors files are written and flushed under temporary names (where a full disk shows),
/// then renamed over the old ones (renames need no space), then the log lines are appended in one write that is
/// undone if it fails part-way. The checkpoint is the commit point: a kill between two steps leaves files a
/// resume puts right (``MetricsLog/repair(url:throughEpoch:restoring:)``), and a NaN loss, a non-finite
/// parameter or a failed write stops the run with every file at the last good epoch.
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
    /// The epoch whose files the folder holds (the checkpoint's epoch when resuming; 0 before any commit).
    public private(set) var committedEpoch: Int
    let log: MetricsLog

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
        committedEpoch = checkpoint == nil ? 0 : trainer.epochsCompleted
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

    /// Writes the trainer's current parameters to `parameters.safetensors` (used after training, when early
    /// stopping has put back the best epoch's parameters).
    ///
    /// - Throws: ``CheckpointError`` without touching the existing file when a parameter is NaN or infinite.
    public func saveParameters(epoch: Int? = nil) throws {
        try saveParameters(try TrainingCheckpoint(parameters: trainer.parameters).parameters,
                           epoch: epoch ?? trainer.epochsCompleted)
    }

    /// Writes `parameters.safetensors` from parameters already read back (the epoch's checkpoint's).
    private func saveParameters(_ tensors: [TrainingCheckpoint.Tensor], epoch: Int) throws {
        try stageParameters(tensors, epoch: epoch).commit()
    }

    /// `parameters.safetensors`, written and flushed under a temporary name.
    private func stageParameters(_ tensors: [TrainingCheckpoint.Tensor], epoch: Int) throws -> StagedFile {
        try requireFinite(tensors, file: parametersURL.path)
        var metadata = ["format": TrainingCheckpoint.parametersFormat, "model": trainer.spec.name,
                        "epoch": String(epoch), "step": String(trainer.optimizer.stepCount),
                        "backend": trainer.backend.name, "model_file": trainer.spec.sourceText]
        if trainer.spec.input.normalize != .none { metadata.merge(trainer.batcher.transform.metadata) { $1 } }
        metadata.merge(ClassNameMetadata.metadata(for: trainer.data.train)) { $1 }
        if let encoding = trainer.data.encoding { metadata.merge(encoding.metadata) { $1 } }
        let file = SafeTensorsFile(tensors: tensors, metadata: metadata)
        return try StagedFile(try file.encoded(file: parametersURL.relativePath), for: parametersURL)
    }

    private func requireFinite(_ tensors: [TrainingCheckpoint.Tensor], file: String) throws {
        if let bad = tensors.first(where: { $0.values.contains { !$0.isFinite } }) {
            throw CheckpointError(file: file, message: "parameter '\(bad.name)' is not finite after epoch "
                + "\(trainer.epochsCompleted); kept the files of epoch \(committedEpoch)")
        }
    }

    /// Commits the epoch: parameters and checkpoint (with the epoch's log lines) are both written and flushed
    /// under temporary names, then renamed over the old ones, then the log lines are appended. Throws, leaving
    /// every file at the previous epoch, when a parameter is not finite or a file cannot be written (a full disk).
    public func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {
        let lines = try MetricsLog.lines(for: report, file: metricsURL.relativePath)
        // One read of the parameters serves both files.
        var checkpoint = try trainer.checkpoint()
        checkpoint.metadata[Self.metricsLinesKey] = lines
        // Staging the parameters file checks them for NaN and infinities before anything is written.
        let parameters = try stageParameters(checkpoint.parameters, epoch: report.epoch)
        let state = try StagedFile(try checkpoint.safeTensors(file: checkpointURL.relativePath).encoded(
            file: checkpointURL.relativePath), for: checkpointURL)
        try parameters.commit()
        try state.commit()
        committedEpoch = report.epoch
        try log.appendRecord(lines)
    }
}

extension RunOutput {
    /// Appends the test rows' scores (`"split": "test"`) for the epoch whose parameters were scored.
    public func logTest(_ scores: [TaskScore], epoch: Int) throws {
        var lines = ""
        for score in scores {
            lines += try MetricsLog.line(epoch: epoch, split: "test", task: score.task, loss: score.loss,
                                         metrics: score.metrics, extra: ["labelled_rows": Double(score.labelledRows)],
                                         file: metricsURL.relativePath)
        }
        try log.appendRecord(lines)
    }

    /// Writes `baselines.json` (see ``Baselines/json(multiTask:baselines:)``) atomically.
    public func saveBaselines(_ json: String) throws {
        try writeAtomically(Array(json.utf8), to: folder.baselinesURL)
    }
}
