import CanopyCore
import Foundation

/// A training observer that writes each epoch to a TensorBoard event file (``TensorBoardWriter``), step = epoch.
///
/// Scalar tags, the same numbers as `metrics.jsonl`'s lines:
/// - `<task>/train/loss`, `<task>/train/<metric>`, `<task>/validation/loss`, `<task>/validation/<metric>`;
/// - `<task>/weight` (the task's loss weight), `learning_rate`, `epoch_seconds`;
/// - `gradient_cosine/<a>~<b>` for each pair of tasks;
/// - `<task>/test/...` at the end of a run that scored test rows (``logTest(_:epoch:)``).
///
/// Histograms: `parameters/<name>` for every parameter after every epoch.
public final class TensorBoardLog: TrainingObserver {
    /// The event file's writer.
    public let writer: TensorBoardWriter
    /// Whether each epoch also writes a histogram of every parameter.
    public let histograms: Bool

    /// Starts a new event file in `directory`.
    public init(directory: URL, histograms: Bool = true) throws {
        writer = try TensorBoardWriter(directory: directory)
        self.histograms = histograms
    }

    /// The epoch's scalars as tags and values.
    public static func scalars(for report: EpochReport) -> [(tag: String, value: Double)] {
        var scalars: [(tag: String, value: Double)] = []
        for (split, scores) in [("train", report.train), ("validation", report.validation)] {
            for score in scores { scalars += self.scalars(score, split: split) }
        }
        for (task, weight) in zip(report.train.map(\.task), report.weights) { scalars.append(("\(task)/weight", weight)) }
        scalars.append(("learning_rate", Double(report.learningRate)))
        scalars.append(("epoch_seconds", report.seconds))
        for pair in report.gradientCosines {
            scalars.append(("gradient_cosine/\(pair.first)~\(pair.second)", pair.cosine))
        }
        return scalars
    }

    private static func scalars(_ score: TaskScore, split: String) -> [(tag: String, value: Double)] {
        [("\(score.task)/\(split)/loss", score.loss)] + score.metrics.map { ("\(score.task)/\(split)/\($0.name)", $0.value) }
    }

    /// Writes the epoch's scalars and, with ``histograms``, the parameters' histograms, in one event.
    public func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {
        let parameters = histograms ? try TrainingCheckpoint(parameters: trainer.parameters).parameters : []
        try writer.write(step: report.epoch, scalars: Self.scalars(for: report),
                         histograms: parameters.map { ("parameters/\($0.name)", $0.values) })
    }

    /// Writes the test rows' scores (`<task>/test/...`) at `epoch`, the epoch whose parameters were scored.
    public func logTest(_ scores: [TaskScore], epoch: Int) throws {
        try writer.write(step: epoch, scalars: scores.flatMap { Self.scalars($0, split: "test") })
    }
}
