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

/// The files a training run leaves in its output directory, each rewritten atomically after every epoch (so a
/// crash or a NaN leaves the last good epoch's files):
/// - `parameters.safetensors`: the parameters by graph name;
/// - `checkpoint.safetensors`: parameters, optimizer and weighting state and progress, for `--resume`;
/// - `metrics.jsonl`: one JSON object per epoch, split and task (with the task's weight), and one per pair of
///   tasks with the cosine of their gradients on the shared parameters (`"pair": "a~b"`).
public final class RunOutput: TrainingObserver {
    /// The output directory; created by ``init(directory:trainer:resuming:)`` when missing.
    public let directory: URL
    /// The trainer whose parameters and state are saved.
    public let trainer: Trainer
    /// `<directory>/parameters.safetensors`.
    public var parametersURL: URL { directory.appendingPathComponent("parameters.safetensors") }
    /// `<directory>/metrics.jsonl`.
    public var metricsURL: URL { directory.appendingPathComponent("metrics.jsonl") }
    /// `<directory>/checkpoint.safetensors`.
    public var checkpointURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }
    private let log: MetricsLog

    /// Creates the directory and starts a new metrics log there (or appends to it when `resuming`).
    public init(directory: URL, trainer: Trainer, resuming: Bool = false) throws {
        self.directory = directory
        self.trainer = trainer
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(file: directory.path, message: "cannot create the output directory: \(error.localizedDescription)")
        }
        log = try MetricsLog(url: directory.appendingPathComponent("metrics.jsonl"), appending: resuming)
    }

    /// Writes the current parameters, with the model file's text and the progress in the metadata.
    ///
    /// - Throws: ``CheckpointError`` without touching the existing file when a parameter is NaN or infinite.
    public func saveParameters() throws {
        try saveParameters(try TrainingCheckpoint(parameters: trainer.parameters).parameters)
    }

    /// Writes `parameters.safetensors` from parameters already read back (the epoch's checkpoint's).
    private func saveParameters(_ tensors: [TrainingCheckpoint.Tensor]) throws {
        if let bad = tensors.first(where: { $0.values.contains { !$0.isFinite } }) {
            throw CheckpointError(file: parametersURL.path,
                                  message: "parameter '\(bad.name)' is not finite; kept the previous file")
        }
        let metadata = ["format": TrainingCheckpoint.parametersFormat, "model": trainer.spec.name,
                        "epoch": String(trainer.epochsCompleted), "step": String(trainer.optimizer.stepCount),
                        "backend": trainer.backend.name, "model_file": trainer.spec.sourceText]
        try SafeTensorsFile(tensors: tensors, metadata: metadata).write(to: parametersURL)
    }

    /// Appends the epoch's scores (and gradient cosines) to the metrics log, then rewrites the parameters file and
    /// the checkpoint. Throws, keeping the previous parameters and checkpoint files, when a parameter is not finite.
    public func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {
        for (split, scores) in [("train", report.train), ("validation", report.validation)] {
            for (t, score) in scores.enumerated() {
                var extra: [String: Double] = ["step": Double(report.steps)]
                if t < report.weights.count { extra["weight"] = report.weights[t] }
                if split == "train" { extra["learning_rate"] = Double(report.learningRate) }
                try log.append(epoch: report.epoch, split: split, task: score.task, loss: score.loss,
                               metrics: score.metrics, extra: extra)
            }
        }
        for pair in report.gradientCosines {
            try log.appendPair(epoch: report.epoch, pair: "\(pair.first)~\(pair.second)", gradientCosine: pair.cosine)
        }
        // One read of the parameters serves both files.
        let checkpoint = try trainer.checkpoint()
        try saveParameters(checkpoint.parameters)
        try checkpoint.write(to: checkpointURL)
    }
}
