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
        fflush(stdout)
    }
}
