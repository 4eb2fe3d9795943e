import Canopy
import Foundation

/// Prints training progress for people: a progress bar on a terminal, and each epoch every task's train and
/// validation loss and metrics.
final class ConsoleReporter: TrainingObserver {
    private let epochs: Int
    private var progress: ProgressBar

    init(epochs: Int) {
        self.epochs = epochs
        progress = ProgressBar()
    }

    func trainer(_ trainer: Trainer, didFinishBatch batch: Int, of batchCount: Int, epoch: Int, loss: Double) throws {
        progress.update(epoch: epoch, of: epochs, batch: batch + 1, of: batchCount, loss: loss)
    }

    func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {
        progress.clear()
        var lines = EpochTable.render(report, epochs: epochs).split(separator: "\n", omittingEmptySubsequences: false)
        if !lines.isEmpty { lines[0] += String(format: "   [%.2f s]", report.seconds) }
        print(lines.joined(separator: "\n"))
        var extra: [String] = []
        if trainer.spec.train.weighting != .fixed {
            extra.append("weights " + zip(trainer.spec.tasks, report.weights).map { "\($0.name) " + String(format: "%.3f", $1) }.joined(separator: " "))
        }
        if !report.gradientCosines.isEmpty {
            extra.append("gradient cosine " + report.gradientCosines.map { "\($0.first)~\($0.second) " + String(format: "%+.3f", $0.cosine) }.joined(separator: " "))
        }
        if !extra.isEmpty { print("         " + extra.joined(separator: " | ")) }
        if report.stopsEarly { print("early stopping: no improvement for \(trainer.spec.train.earlyStopping?.patience ?? 0) epochs") }
        fflush(stdout)
    }
}
