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

/// The files a training run leaves in its ``RunFolder``, committed in one order after every epoch:
/// 1. `parameters.safetensors`: the parameters by graph name (atomically: a temporary file renamed over it);
/// 2. `checkpoint.safetensors`: parameters, optimizer, weighting and early-stopping state, progress, and a copy
///    of the epoch's metrics lines (atomically);
/// 3. `metrics.jsonl`: the epoch's lines, one JSON object per split and task (with the task's weight) and one
///    per pair of tasks with the cosine of their gradients on the shared parameters (`"pair": "a~b"`), in one
///    write that is undone when it fails part-way.
///
/// The checkpoint is the commit point. A kill between two steps leaves files a resume puts right
/// (``MetricsLog/repair(url:throughEpoch:restoring:)``); a NaN loss or a non-finite parameter stops the run
/// before step 1, so every file keeps the last good epoch.
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
    private let log: MetricsLog

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
        try requireFinite(tensors, file: parametersURL.path)
        let metadata = ["format": TrainingCheckpoint.parametersFormat, "model": trainer.spec.name,
                        "epoch": String(epoch), "step": String(trainer.optimizer.stepCount),
                        "backend": trainer.backend.name, "model_file": trainer.spec.sourceText]
        try SafeTensorsFile(tensors: tensors, metadata: metadata).write(to: parametersURL)
    }

    private func requireFinite(_ tensors: [TrainingCheckpoint.Tensor], file: String) throws {
        if let bad = tensors.first(where: { $0.values.contains { !$0.isFinite } }) {
            throw CheckpointError(file: file, message: "parameter '\(bad.name)' is not finite after epoch "
                + "\(trainer.epochsCompleted); kept the files of epoch \(committedEpoch)")
        }
    }

    /// Commits the epoch: parameters, then the checkpoint (with the epoch's log lines), then the log lines.
    /// Throws, leaving every file at the previous epoch, when a parameter is not finite.
    public func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {
        let lines = try MetricsLog.lines(for: report, file: metricsURL.relativePath)
        // One read of the parameters serves both files.
        var checkpoint = try trainer.checkpoint()
        try requireFinite(checkpoint.parameters, file: checkpointURL.path)
        checkpoint.metadata[Self.metricsLinesKey] = lines
        try saveParameters(checkpoint.parameters, epoch: report.epoch)
        try checkpoint.write(to: checkpointURL)
        committedEpoch = report.epoch
        try log.appendRecord(lines)
    }
}

extension RunOutput {
    /// Writes `baselines.json` (see ``Baselines/json(multiTask:baselines:)``) atomically.
    public func saveBaselines(_ json: String) throws {
        try writeAtomically(Array(json.utf8), to: folder.baselinesURL)
    }
}
