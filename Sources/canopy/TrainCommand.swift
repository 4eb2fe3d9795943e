import ArgumentParser
import Canopy
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model file and report every task's loss and metrics each epoch.",
        discussion: """
            The run's files go to --out (default runs/<model name>): parameters.safetensors, checkpoint.safetensors \
            and metrics.jsonl, committed together after every epoch. A folder that already holds a run is \
            refused unless you --resume it or --overwrite it, and only one canopy process writes a folder at a time.
            """)

    @Argument(help: "The model file (YAML or JSON).")
    var model: String

    @OptionGroup var backendOptions: BackendOptions

    @Option(parsing: .unconditional,
            help: "Train up to this many epochs (default: train.epochs). The schedule still spans train.epochs.")
    var epochs: Int?

    @Option(parsing: .unconditional, help: "Seed of initialisation, shuffling and dropout (overrides train.seed).")
    var seed: String?

    @Option(parsing: .unconditional,
            help: "Folder for the parameters, checkpoint and metrics log (default: runs/<model name>).")
    var out: String?

    @Option(parsing: .unconditional, help: "Continue the run saved in this folder (its checkpoint.safetensors).")
    var resume: String?

    @Flag(help: "Replace the run the output folder holds, if any (its files are removed before training starts).")
    var overwrite = false

    @Flag(help: "Also train each task alone (same architecture and budget) and report the multi-task measure Δm.")
    var baselines = false

    @Flag(help: "Before training on OpenCL, tune the device's kernels (as canopy tune does) if it has no tuning file yet.")
    var tune = false

    @Option(help: "With --tune: the tuning time budget in seconds.")
    var tuneSeconds: Double = 60

    @Option(parsing: .unconditional,
            help: "Also write TensorBoard event files (scalars per task and split, weights, learning rate, gradient cosines, parameter histograms) to this folder (overrides the model file's log.tensorboard).")
    var tensorboard: String?

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be a whole number of at least 1, got \(epochs)") }
        if let seed, UInt64(seed) == nil {
            throw ValidationError("--seed must be a whole number from 0 to \(UInt64.max), got '\(seed.prefix(40))'")
        }
        if !(tuneSeconds > 0) || !tuneSeconds.isFinite {
            throw ValidationError("--tune-seconds must be above 0, got \(tuneSeconds)")
        }
        if let tensorboard, tensorboard.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--tensorboard is empty; give a folder for the event files")
        }
        if resume != nil, overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
        if let resume, let out, URL(fileURLWithPath: out).standardizedFileURL != URL(fileURLWithPath: resume).standardizedFileURL {
            throw ValidationError("--resume continues the run in its own folder; leave out --out or give the same folder")
        }
    }

    func run() throws {
        try reportingErrors {
            // Started by mpirun: one of several processes training together; only rank 0 prints and writes files.
            let group = try DataParallelLaunch.join()
            DataParallelLaunch.silenceStandardOutput(of: group)
            if group.size > 1, baselines {
                throw ValidationError("--baselines trains every task alone in one process; run it without mpirun")
            }
            var spec = try loadModel(model)
            if let seed { spec = try spec.with(seed: UInt64(seed)!) }
            let plan = try RunPlan(spec, device: nil, processes: group.size)
            if tune, group.isRoot { try tuneFirstIfNeeded() }
            let selected = try DataParallelLaunch.openBackend(backendOptions, plan: plan, group: group)
            print("backend: \(selected.reason)")
            if group.size > 1 {
                print("data-parallel: \(group.size) processes, \(plan.batchSize) of every \(plan.globalBatchSize) rows each")
            }

            let setUpStart = ContinuousClock.now
            let trainer = try Trainer(plan: plan, backend: selected.backend, group: group)
            guard group.isRoot else {
                // Another rank: rank 0's resumed state when resuming (the trainer adopted its initial state when
                // it started), then the same collectives as rank 0, no files.
                if resume != nil { try trainer.adoptRootState() }
                _ = try trainer.train(epochs: epochs ?? spec.train.epochs)
                if let test = trainer.data.test { _ = try trainer.evaluate(test) }
                try DataParallelLaunch.finish(group)
                return
            }
            let target = epochs ?? spec.train.epochs
            let folder = try RunFolder(path: resume ?? out ?? "runs/\(spec.name)",
                                       start: resume != nil ? .resume : overwrite ? .overwrite : .new)
            var restored: TrainingCheckpoint?
            if resume != nil {
                let checkpoint = try TrainingCheckpoint.read(from: folder.checkpointURL)
                for warning in try trainer.restore(checkpoint) { print("warning: \(warning)") }
                guard target > trainer.epochsCompleted else {
                    throw ValidationError("the run in \(folder.path) already has \(trainer.epochsCompleted) epochs; "
                        + "pass --epochs above \(trainer.epochsCompleted) to train more")
                }
                print("resuming \(folder.checkpointURL.relativePath) after epoch \(trainer.epochsCompleted) "
                    + "(step \(trainer.optimizer.stepCount))")
                restored = checkpoint
                try trainer.adoptRootState()   // the other processes take the restored state
            }
            let firstStep = trainer.optimizer.stepCount   // the steps before this run (a resumed one's)
            let output = try RunOutput(folder: folder, trainer: trainer, resumedFrom: restored)
            printPlan(spec: spec, trainer: trainer, target: target)
            let console = ConsoleReporter(epochs: target, setUpStart: setUpStart)
            let board = try (tensorboard ?? spec.log.tensorboard).map { try TensorBoardLog(directory: URL(fileURLWithPath: $0)) }
            if let board { print("tensorboard: writing \(board.writer.url.relativePath)") }
            do {
                _ = try trainer.train(epochs: target, observer: ObserverGroup([console, output] + (board.map { [$0] } ?? [])))
                try output.finish() // the last epoch's commit, off the training thread until now
            } catch {
                // A NaN loss, a full disk, a device failure: the folder holds the last committed epoch, whole, once
                // the commit in flight is done (a failure of its own is reported too, unless it is this error).
                finishCommits(output, after: error)
                if output.committedEpoch > 0 { try? writeReport(output) }
                print(output.committedEpoch > 0
                    ? "kept the files of epoch \(output.committedEpoch), the last good one, in \(folder.path)"
                    : "no epoch completed; nothing was saved in \(folder.path)")
                // A run that diverges right after a resume may owe it to its checkpoint: say which one.
                if let restored, error is TrainingError {
                    throw ContextError(error, context: "the run resumed from \(restored.file ?? folder.checkpointURL.relativePath) "
                        + "after epoch \(restored.metadata["epoch"] ?? "?")")
                }
                throw error
            }
            if group.size > 1 {
                // Per step taken here (PCGrad sums one buffer per task and parameter each step, not one).
                let stats = trainer.communication, steps = max(1, trainer.optimizer.stepCount - firstStep)
                print("data-parallel: each process summed " + MemoryPlan.format(stats.bytes / steps) + " of gradients a "
                    + String(format: "step with the others, waiting %.2f ms a step beyond the backward pass for it",
                             stats.waitSeconds / Double(steps) * 1e3))
            }
            if trainer.parametersEpoch != trainer.epochsCompleted {
                try output.saveParameters(epoch: trainer.parametersEpoch)
                print("early stopping kept the parameters of epoch \(trainer.parametersEpoch), the best one "
                    + "(the checkpoint holds epoch \(trainer.epochsCompleted) to resume from)")
            }
            if let test = trainer.data.test {
                let scores = try trainer.evaluate(test)
                print("test rows (\(test.rowCount)), scored once with the parameters of epoch \(trainer.parametersEpoch):")
                print(ScoreTable.render([("test", scores)]))
                try output.logTest(scores, epoch: trainer.parametersEpoch)
                try board?.logTest(scores, epoch: trainer.parametersEpoch)
            }
            print("wrote \(output.parametersURL.relativePath), \(output.checkpointURL.relativePath) and "
                + "\(output.metricsURL.relativePath)")
            if baselines { try reportBaselines(spec: spec, trainer: trainer, output: output, backend: selected.backend) }
            try writeReport(output)
            try DataParallelLaunch.finish(group)
        }
    }

    /// Waits for the epoch commit in flight after training stopped on `error`; prints that commit's own failure
    /// when it is another error (one that stopped training was thrown by the output and is reported as `error`).
    private func finishCommits(_ output: RunOutput, after error: Error) {
        do {
            try output.finish()
        } catch let failure as CheckpointError where failure == error as? CheckpointError {
            return
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        }
    }

    /// Writes the run's `report.html` and says so (with the log lines it left out).
    private func writeReport(_ output: RunOutput) throws {
        for note in try output.writeReport() { print("note: \(note)") }
        print("wrote \(output.reportURL.relativePath)")
    }

    /// The model line, the memory plan, and what transfer loaded.
    private func printPlan(spec: ModelSpec, trainer: Trainer, target: Int) {
        print("model: \(spec.name), \(trainer.parameters.totalCount) parameters, "
            + "\(trainer.data.train.rowCount) training and \(trainer.data.validation.rowCount) validation rows, "
            + "\(target) epoch\(target == 1 ? "" : "s") of \(trainer.stepsPerEpoch) steps, "
            + "weighting \(spec.train.weighting.keyword)")
        print("memory: \(trainer.memoryPlan.summary)")
        let horizon = trainer.schedule.epochs
        if case .cosine = spec.train.schedule.kind, target != horizon {
            print("note: the cosine schedule spans the run's \(horizon) epochs (train.epochs when it started); "
                + (target > horizon ? "epochs after \(horizon) use its final rate" : "training stops before it ends"))
        }
        for line in trainer.transfer?.lines ?? [] { print(line) }
    }
}

extension TrainCommand {
    /// Trains every task alone, prints each metric against the multi-task model's, then Δm over the baselines
    /// that trained, and writes them all to `baselines.json`.
    /// `--tune`: tunes the OpenCL device training would use when it has no tuning file (not for `--backend cpu`;
    /// with `auto`, a machine without OpenCL just trains).
    private func tuneFirstIfNeeded() throws {
        guard backendOptions.backend != .cpu else { return }
        let selector = backendOptions.device.map(OpenCLDeviceSelector.init(parsing:)) ?? .environment
        do {
            guard try OpenCLBackend.tuningFile(device: selector) == nil else { return }
            print("tuning the OpenCL device first (--tune, no tuning file for it yet):")
            print(try canopy.tune(selector, seconds: tuneSeconds))
        } catch where backendOptions.backend == .auto {
            print("not tuned: \(error)")
        }
    }

    private func reportBaselines(spec: ModelSpec, trainer: Trainer, output: RunOutput, backend: Backend) throws {
        let multiTask = try trainer.evaluate(trainer.data.validation)
        let budget = trainer.epochsCompleted
        let results = try Baselines.train(spec, data: trainer.data, epochs: budget, backend: { backend }) { task in
            print("baseline: training '\(task)' alone for \(budget) epochs")
        }
        print("validation        multi-task   single-task")
        for score in multiTask {
            guard let result = results.first(where: { $0.task == score.task }) else { continue }
            guard let baseline = result.score else {
                print("\(score.task): baseline failed: \(result.failure ?? "unknown")")
                continue
            }
            for (metric, reference) in zip(score.metrics, baseline.metrics) {
                let name = "\(score.task) \(metric.name)".padding(toLength: 18, withPad: " ", startingAt: 0)
                print(name + String(format: "%.4f       %.4f", metric.value, reference.value))
            }
        }
        let counted = results.filter { $0.score != nil }
        if counted.isEmpty {
            print("Δm: not computed, every baseline failed")
        } else {
            let over = counted.count == results.count ? "" : " (over \(counted.map(\.task).joined(separator: ", ")) only)"
            print(String(format: "Δm = %+.2f%% (mean relative improvement over the single-task baselines)",
                         Baselines.deltaM(multiTask: multiTask, baselines: results)) + over)
        }
        try output.saveBaselines(Baselines.json(multiTask: multiTask, baselines: results))
        print("wrote \(output.folder.baselinesURL.relativePath)")
    }
}

/// An error with a sentence of context after it.
struct ContextError: Error, CustomStringConvertible {
    let underlying: Error
    let context: String
    init(_ underlying: Error, context: String) { self.underlying = underlying; self.context = context }
    var description: String { "\(underlying) (\(context))" }
}
