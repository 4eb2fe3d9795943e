import ArgumentParser
import Canopy
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model file and report every task's loss and metrics each epoch.")

    @Argument(help: "The model file (YAML or JSON).")
    var model: String

    @OptionGroup var backendOptions: BackendOptions

    @Option(help: "Epochs to train (overrides train.epochs).")
    var epochs: Int?

    @Option(help: "Seed of initialisation, shuffling and dropout (overrides train.seed).")
    var seed: UInt64?

    @Option(help: "Directory for the parameters (safetensors) and the metrics log (default: runs/<model name>).")
    var out: String?

    @Option(help: "Continue the run saved in this directory (its checkpoint.safetensors) up to the epoch count.")
    var resume: String?

    @Flag(help: "Also train each task alone (same architecture and budget) and report the multi-task measure Δm.")
    var baselines = false

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    }

    func run() throws {
        try reportingErrors {
            var spec = try loadModel(model)
            if let epochs { spec = try spec.with(epochs: epochs) }
            if let seed { spec = try spec.with(seed: seed) }
            let selected = try backendOptions.open()
            print("backend: \(selected.reason)")

            let trainer = try Trainer(spec: spec, backend: selected.backend)
            let directory = URL(fileURLWithPath: out ?? resume ?? "runs/\(spec.name)")
            if let resume {
                let saved = URL(fileURLWithPath: resume).appendingPathComponent("checkpoint.safetensors")
                try trainer.restore(TrainingCheckpoint.read(from: saved))
                print("resuming \(saved.path) after epoch \(trainer.epochsCompleted) (step \(trainer.optimizer.stepCount))")
            }
            let output = try RunOutput(directory: directory, trainer: trainer, resuming: resume != nil)
            print("model: \(spec.name), \(trainer.parameters.totalCount) parameters, "
                + "\(trainer.data.train.rowCount) training and \(trainer.data.validation.rowCount) validation rows, "
                + "\(spec.train.epochs) epoch\(spec.train.epochs == 1 ? "" : "s") of \(trainer.data.train.rowCount.divided(by: spec.train.batchSize)) steps, "
                + "weighting \(spec.train.weighting.keyword)")
            let console = ConsoleReporter(epochs: spec.train.epochs)
            do {
                _ = try trainer.train(observer: ObserverGroup([console, output]))
            } catch let error as TrainingError {
                // The failed step's update was not applied, so the parameters are still the last good ones.
                do {
                    try output.saveParameters()
                    print("saved the last good parameters to \(output.parametersURL.path)")
                } catch {
                    print("kept the last epoch's parameters in \(output.parametersURL.path): \(error)")
                }
                throw error
            }
            try output.saveParameters()
            print("wrote \(output.parametersURL.path), \(output.checkpointURL.path) and \(output.metricsURL.path)")
            if baselines { try reportBaselines(spec: spec, trainer: trainer, backend: selected.backend) }
        }
    }
}

extension TrainCommand {
    /// Trains every task alone and prints each metric against the multi-task model's, then Δm.
    private func reportBaselines(spec: ModelSpec, trainer: Trainer, backend: Backend) throws {
        let multiTask = try trainer.evaluate(trainer.data.validation)
        let results = try Baselines.train(spec, data: trainer.data, backend: { backend }) { task in
            print("baseline: training '\(task)' alone for \(spec.train.epochs) epochs")
        }
        print("validation        multi-task   single-task")
        for score in multiTask {
            guard let baseline = results.first(where: { $0.task == score.task })?.score else { continue }
            for (metric, reference) in zip(score.metrics, baseline.metrics) {
                let name = "\(score.task) \(metric.name)".padding(toLength: 18, withPad: " ", startingAt: 0)
                print(name + String(format: "%.4f       %.4f", metric.value, reference.value))
            }
        }
        print(String(format: "Δm = %+.2f%% (mean relative improvement over the single-task baselines)",
                     Baselines.deltaM(multiTask: multiTask, baselines: results)))
    }
}


private extension Int {
    /// Rounded-up division, for step counts.
    func divided(by divisor: Int) -> Int { (self + divisor - 1) / divisor }
}
