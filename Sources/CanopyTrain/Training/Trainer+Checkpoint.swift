import CanopyCore
import CanopyModel
import Foundation

extension Trainer {
    /// The metadata keys that describe how the run was set up; resuming with a different value for one of the
    /// first four is refused (the steps, the split or the schedule would no longer be the run's), a different
    /// learning rate is reported as a warning.
    static let runSettingKeys = ["batch_size", "data", "train_rows", "validation_rows", "learning_rate"]

    /// The run's settings as checkpoint metadata.
    var runSettings: [String: String] {
        ["batch_size": String(spec.train.batchSize),
         "data": "\(spec.data.source), validation \(spec.data.validationSource.map { "\($0)" } ?? "\(spec.data.validation)"), "
             + "seed \(spec.data.seed)",
         "train_rows": String(data.train.rowCount), "validation_rows": String(data.validation.rowCount),
         "learning_rate": String(spec.train.optimizer.learningRate)]
    }

    /// Everything needed to continue this run exactly: parameters, optimizer state, weighting and early-stopping
    /// state (and the best epoch's parameters it keeps), progress, the schedule's horizon, the run's settings and
    /// the model file's text. Random numbers are counter-based (seed, epoch, step), so the progress counters are
    /// the whole random state.
    public func checkpoint() throws -> TrainingCheckpoint {
        var checkpoint = try TrainingCheckpoint(parameters: parameters)
        checkpoint.optimizerState = try optimizer.stateSnapshot().sorted { $0.key < $1.key }
            .map { (name: $0.key, shape: [$0.value.count], values: $0.value) }
        var extra: [TrainingCheckpoint.Tensor] = weighting.state.map { (name: $0.name, shape: [$0.values.count], values: $0.values) }
        let stopping = DoubleBits.encode([earlyStopping.best ?? .nan, Double(earlyStopping.bestEpoch),
                                          Double(earlyStopping.epochsWithoutImprovement)])
        extra.append((name: "early_stopping", shape: [stopping.count], values: stopping))
        if let bestParameters {
            for name in parameters.names {
                let values = bestParameters[name] ?? []
                extra.append((name: Self.bestPrefix + name, shape: [values.count], values: values))
            }
        }
        checkpoint.extraState = extra
        checkpoint.metadata = runSettings.merging([
            "format": TrainingCheckpoint.format, "version": TrainingCheckpoint.version,
            "model": spec.name, "model_file": spec.sourceText,
            "epoch": String(epochsCompleted), "step": String(optimizer.stepCount),
            "schedule_epochs": String(schedule.epochs),
            "seed": String(spec.train.seed), "backend": backend.name,
            "weighting": spec.train.weighting.keyword,
            "random_state": "counter-based: every draw derives from (seed, epoch, step)",
        ]) { $1 }
        if spec.input.normalize != .none { checkpoint.metadata.merge(batcher.transform.metadata) { $1 } }
        checkpoint.metadata.merge(ClassNameMetadata.metadata(for: data.train)) { $1 }
        if let encoding = data.encoding { checkpoint.metadata.merge(encoding.metadata) { $1 } }
        return checkpoint
    }

    /// The extra-state name prefix of the best epoch's parameters (early stopping with `restore_best`).
    static let bestPrefix = "early_stopping.best."

    /// Continues from a checkpoint this model wrote: parameters (strictly: same names and shapes), optimizer
    /// state, weighting and early-stopping state, progress and the schedule's horizon.
    ///
    /// A checkpoint is outside data: every field is checked against the model before any of it is used, so a
    /// damaged or foreign file is an error naming the file and the field, never a trap or a half-restored run.
    ///
    /// - Returns: warnings for settings that changed but do not stop the run (a new learning rate).
    /// - Throws: ``CheckpointError`` naming the file and what is wrong: missing or out-of-range progress, a
    ///   changed batch size, data split or weighting method, parameters or state of the wrong size or not finite.
    @discardableResult
    public func restore(_ checkpoint: TrainingCheckpoint) throws -> [String] {
        let file = checkpoint.file ?? "checkpoint"
        func failure(_ message: String) -> CheckpointError { CheckpointError(file: file, message: message) }
        let metadata = checkpoint.metadata
        guard metadata["format"] == TrainingCheckpoint.format else {
            throw failure("not a resumable Canopy checkpoint (it lacks optimizer state and progress)")
        }
        func count(_ key: String, in range: ClosedRange<Int>) throws -> Int {
            guard let text = metadata[key], let value = Int(text), range.contains(value) else {
                throw failure("metadata '\(key)' is \(metadata[key].map { "'\($0.prefix(40))'" } ?? "missing"); "
                    + "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        let epoch = try count("epoch", in: 0...10_000_000)
        let step = try count("step", in: 0...Int(Int32.max))
        let scheduleEpochs = metadata["schedule_epochs"] == nil ? spec.train.epochs : try count("schedule_epochs", in: 1...10_000_000)
        guard metadata["weighting"] == spec.train.weighting.keyword else {
            throw failure("the run was saved with weighting '\(metadata["weighting"] ?? "?")', "
                + "the model file now says '\(spec.train.weighting.keyword)'")
        }
        var changed: [String] = [], warnings: [String] = []
        let now = runSettings
        for key in Self.runSettingKeys {
            guard let saved = metadata[key], saved != now[key] else { continue }
            let change = "\(key) was \(saved), now \(now[key] ?? "?")"
            if key == "learning_rate" { warnings.append("resuming with a changed learning rate: \(change)") } else { changed.append(change) }
        }
        guard changed.isEmpty else {
            throw failure("the run cannot continue with a different setup (\(changed.joined(separator: "; "))); "
                + "restore the model file's settings or start a new run")
        }
        guard step == epoch * batcher.batchCount else {
            throw failure("the checkpoint is at step \(step) after epoch \(epoch), but this model makes "
                + "\(batcher.batchCount) steps per epoch; it was not written by this model and data")
        }
        var extra: [String: [Float]] = [:]
        for tensor in checkpoint.extraState { extra[tensor.name] = tensor.values }
        let stopping = try restoredEarlyStopping(extra["early_stopping"], epoch: epoch, file: file)
        let best = try restoredBestParameters(extra, file: file)
        var optimizerState: [String: [Float]] = [:]
        for tensor in checkpoint.optimizerState { optimizerState[tensor.name] = tensor.values }
        let weightingState: TaskWeighting.SavedState
        do {
            try optimizer.check(state: optimizerState)
            weightingState = try weighting.checked(extra)
        } catch let error as CheckpointError {
            throw failure(error.message)
        }

        // Everything is checked: now change state, the parameters first (they are checked once more on load).
        _ = try loadParameters(from: checkpoint, into: parameters, strict: true)
        try optimizer.restore(state: optimizerState, stepCount: step)
        weighting.apply(weightingState)
        earlyStopping = stopping
        bestParameters = best
        schedule = LearningRateSchedule(base: spec.train.optimizer.learningRate, spec: spec.train.schedule,
                                        stepsPerEpoch: batcher.batchCount, epochs: scheduleEpochs)
        epochsCompleted = epoch
        parametersEpoch = epoch
        return warnings
    }

    /// Early stopping's saved state, checked: a finite best value (or none), and epoch counts within the run.
    private func restoredEarlyStopping(_ saved: [Float]?, epoch: Int, file: String) throws -> EarlyStoppingState {
        guard let saved else { return EarlyStoppingState() }
        let values = DoubleBits.decode(saved)
        func whole(_ value: Double) -> Int? {
            value.rounded() == value && value >= 0 && value <= Double(epoch) ? Int(value) : nil
        }
        guard saved.count == 6, !values[0].isInfinite, let bestEpoch = whole(values[1]), let waited = whole(values[2]) else {
            throw CheckpointError(file: file, message: "early-stopping state 'state.early_stopping' is damaged "
                + "(expected a best value and two epoch counts up to \(epoch))")
        }
        return EarlyStoppingState(best: values[0].isNaN ? nil : values[0], bestEpoch: bestEpoch,
                                  epochsWithoutImprovement: waited)
    }

    /// The best epoch's parameters early stopping kept, checked against the model (nil when there are none).
    private func restoredBestParameters(_ extra: [String: [Float]], file: String) throws -> [String: [Float]]? {
        guard extra.keys.contains(where: { $0.hasPrefix(Self.bestPrefix) }) else { return nil }
        var best: [String: [Float]] = [:]
        for name in parameters.names {
            guard let values = extra[Self.bestPrefix + name], values.count == parameters.count(named: name),
                  values.allSatisfy(\.isFinite) else {
                throw CheckpointError(file: file, message: "the best epoch's copy of parameter '\(name)' is missing, "
                    + "of the wrong size or not finite")
            }
            best[name] = values
        }
        return best
    }
}
