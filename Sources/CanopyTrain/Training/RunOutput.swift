import CanopyCore
import Foundation

/// Forwards a trainer's progress to several observers, in order.
public final class ObserverGroup: TrainingObserver {
    public let observers: [TrainingObserver]
    public init(_ observers: [TrainingObserver]) { self.observers = observers }

    public func trainer(_ trainer: Trainer, didFinishBatch batch: Int, of batchCount: Int, epoch: Int, loss: Double) throws {
        for observer in observers { try observer.trainer(trainer, didFinishBatch: batch, of: batchCount, epoch: epoch, loss: loss) }
    }

    public func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {
        for observer in observers { try observer.trainer(trainer, didFinishEpoch: report) }
    }
}

/// The files a training run leaves in its output directory:
/// `parameters.safetensors` (the parameters by graph name, rewritten atomically after every epoch, so a crash or a
/// NaN leaves the last good epoch's parameters) and `metrics.jsonl` (one JSON object per epoch, split and task).
public final class RunOutput: TrainingObserver {
    public let directory: URL
    public let trainer: Trainer
    public var parametersURL: URL { directory.appendingPathComponent("parameters.safetensors") }
    public var metricsURL: URL { directory.appendingPathComponent("metrics.jsonl") }
    private let log: MetricsLog

    /// Creates the directory and starts a new metrics log there.
    public init(directory: URL, trainer: Trainer) throws {
        self.directory = directory
        self.trainer = trainer
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(file: directory.path, message: "cannot create the output directory: \(error.localizedDescription)")
        }
        log = try MetricsLog(url: directory.appendingPathComponent("metrics.jsonl"))
    }

    /// Writes the current parameters, with the model file's text and the progress in the metadata.
    ///
    /// - Throws: ``CheckpointError`` without touching the existing file when a parameter is NaN or infinite.
    public func saveParameters() throws {
        let snapshot = try trainer.parameters.snapshot()
        if let bad = trainer.parameters.names.first(where: { snapshot[$0]!.contains { !$0.isFinite } }) {
            throw CheckpointError(file: parametersURL.path,
                                  message: "parameter '\(bad)' is not finite; kept the previous file")
        }
        let tensors = trainer.parameters.names.map { name in
            (name: name, shape: trainer.parameters.shapes[name]!, values: snapshot[name]!)
        }
        let metadata = ["format": "canopy-parameters", "model": trainer.spec.name,
                        "epoch": String(trainer.epochsCompleted), "step": String(trainer.optimizer.stepCount),
                        "backend": trainer.backend.name, "model_file": trainer.spec.sourceText]
        try SafeTensorsFile(tensors: tensors, metadata: metadata).write(to: parametersURL)
    }

    public func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {
        for (split, scores) in [("train", report.train), ("validation", report.validation)] {
            for score in scores {
                try log.append(epoch: report.epoch, split: split, task: score.task, loss: score.loss,
                               metrics: score.metrics, extra: ["step": Double(report.steps)])
            }
        }
        try saveParameters()
    }
}
