import Canopy
import Foundation

/// Prints training progress for people: a progress bar on a terminal, and each epoch every task's train and
/// validation loss and metrics.
final class ConsoleReporter: TrainingObserver {
    private let epochs: Int
    private var progress: ProgressBar
    /// When the trainer was being set up (its kernels start compiling then); nil once the first step is reported.
    private var setUpStart: ContinuousClock.Instant?

    /// - Parameter setUpStart: when the trainer's setup began, for the first step's compile report.
    init(epochs: Int, setUpStart: ContinuousClock.Instant? = nil) {
        self.epochs = epochs
        self.setUpStart = setUpStart
        progress = ProgressBar()
    }

    func trainer(_ trainer: Trainer, didFinishBatch batch: Int, of batchCount: Int, epoch: Int, loss: Double) throws {
        if let start = setUpStart {
            setUpStart = nil
            reportCompiledKernels(trainer, since: start)
        }
        progress.update(epoch: epoch, of: epochs, batch: batch + 1, of: batchCount, loss: loss)
    }

    /// After the first step on OpenCL: how many kernel programs were compiled from source and how long setup and
    /// the first step took (a first run on a device and driver compiles; later runs load the kernel cache).
    private func reportCompiledKernels(_ trainer: Trainer, since start: ContinuousClock.Instant) {
        guard let openCL = trainer.backend as? OpenCLBackend else { return }
        let built = openCL.compileStatistics.builtFromSource
        guard built > 0 else { return }
        let seconds = (ContinuousClock.now - start).seconds
        print(String(format: "opencl: compiled %d kernel program%@ from source for the first step (%.1f s with it); "
            + "later runs on this device and driver load them from the kernel cache", built, built == 1 ? "" : "s",
            seconds))
        fflush(nil)
    }

    func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {
        progress.clear()
        print(EpochTable.render(report, epochs: epochs))
        var extra: [String] = []
        if trainer.spec.train.weighting != .fixed {
            extra.append("weights " + zip(trainer.spec.tasks, report.weights).map { "\($0.name) " + String(format: "%.3f", $1) }.joined(separator: " "))
        }
        if !report.gradientCosines.isEmpty {
            extra.append("gradient cosine " + report.gradientCosines.map { "\($0.first)~\($0.second) " + String(format: "%+.3f", $0.cosine) }.joined(separator: " "))
        }
        if !extra.isEmpty { print("         " + extra.joined(separator: " | ")) }
        if report.stopsEarly { print("early stopping: no improvement for \(trainer.spec.train.earlyStopping?.patience ?? 0) epochs") }
        fflush(nil)
    }
}
