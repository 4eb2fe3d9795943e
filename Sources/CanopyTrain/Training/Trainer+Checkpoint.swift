import CanopyCore
import CanopyModel
import Foundation

extension Trainer {
    /// Everything needed to continue this run exactly: parameters, optimizer state, weighting and early-stopping
    /// state, progress and the model file's text. Random numbers are counter-based (seed, epoch, step), so the
    /// progress counters are the whole random state.
    public func checkpoint() throws -> TrainingCheckpoint {
        var checkpoint = try TrainingCheckpoint(parameters: parameters)
        checkpoint.optimizerState = try optimizer.stateSnapshot().sorted { $0.key < $1.key }
            .map { (name: $0.key, shape: [$0.value.count], values: $0.value) }
        var extra: [TrainingCheckpoint.Tensor] = weighting.state.map { (name: $0.name, shape: [$0.values.count], values: $0.values) }
        let stopping = DoubleBits.encode([earlyStopping.best ?? .nan, Double(earlyStopping.bestEpoch),
                                          Double(earlyStopping.epochsWithoutImprovement)])
        extra.append((name: "early_stopping", shape: [stopping.count], values: stopping))
        checkpoint.extraState = extra
        checkpoint.metadata = [
            "format": TrainingCheckpoint.format, "version": TrainingCheckpoint.version,
            "model": spec.name, "model_file": spec.sourceText,
            "epoch": String(epochsCompleted), "step": String(optimizer.stepCount),
            "seed": String(spec.train.seed), "backend": backend.name,
            "weighting": spec.train.weighting.keyword,
            "random_state": "counter-based: every draw derives from (seed, epoch, step)",
        ]
        return checkpoint
    }

    /// Continues from a checkpoint this model wrote: parameters (strictly: same names and shapes), optimizer
    /// state, weighting and early-stopping state, and progress.
    public func restore(_ checkpoint: TrainingCheckpoint) throws {
        guard checkpoint.metadata["format"] == TrainingCheckpoint.format,
              let epoch = checkpoint.metadata["epoch"].flatMap(Int.init),
              let step = checkpoint.metadata["step"].flatMap(Int.init) else {
            throw CheckpointError(file: checkpoint.file ?? "checkpoint",
                                  message: "not a resumable Canopy checkpoint (it lacks optimizer state and progress)")
        }
        guard checkpoint.metadata["weighting"] == spec.train.weighting.keyword else {
            throw CheckpointError(file: checkpoint.file ?? "checkpoint",
                                  message: "the run was saved with weighting '\(checkpoint.metadata["weighting"] ?? "?")', "
                                      + "the model file now says '\(spec.train.weighting.keyword)'")
        }
        _ = try loadParameters(from: checkpoint, into: parameters, strict: true)
        var optimizerState: [String: [Float]] = [:]
        for tensor in checkpoint.optimizerState { optimizerState[tensor.name] = tensor.values }
        try optimizer.restore(state: optimizerState, stepCount: step)
        var extra: [String: [Float]] = [:]
        for tensor in checkpoint.extraState { extra[tensor.name] = tensor.values }
        try weighting.restore(extra)
        if let saved = extra["early_stopping"].map(DoubleBits.decode), saved.count == 3 {
            earlyStopping = EarlyStoppingState(best: saved[0].isNaN ? nil : saved[0], bestEpoch: Int(saved[1]),
                                               epochsWithoutImprovement: Int(saved[2]))
        }
        epochsCompleted = epoch
    }
}
