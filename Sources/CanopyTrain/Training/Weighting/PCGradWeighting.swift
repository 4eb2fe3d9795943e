import CanopyCore
import CanopyModel

/// PCGrad (Yu et al., NeurIPS 2020; `pcgrad`): each task's gradient of the shared parameters is projected off
/// the others' where they conflict, then summed (``MultiTaskMath/pcGrad(_:order:)``, in a random order per task
/// drawn from the step's seed). The losses keep the model file's weights; one backward pass per step keeps
/// every task's gradients apart, and the host combines them.
struct PCGradWeighting: WeightingMethod {
    /// The model file's weights (a resumed run keeps the ones it was saved with).
    private(set) var weights: [Double]

    init(weights: [Double]) {
        self.weights = weights
    }

    func stepOutputs(of model: ModelGraph) -> [Value] {
        model.taskGradients.flatMap(\.values) + model.penaltyGradients.values
    }

    mutating func runStep(_ step: StepRunner) throws { try step.runForwardAndBackward(seeds: seeds) }

    /// Per-task gradients; where several tasks (or a penalty) reach a parameter, the host combines them:
    /// PCGrad over the concatenated shared parameters, plus the penalty's gradient. With several processes,
    /// every gradient is summed over them before it is combined (the projections are not linear).
    func gradients(_ step: StepRunner) throws -> [String: DeviceBuffer] {
        let model = step.model, executor = step.executor, parameters = step.parameters
        var result: [String: DeviceBuffer] = [:]
        let shared = Set(model.sharedParameters)
        let perTask = try model.sharedGradients(in: executor).map { try step.summedOverProcesses($0) }
        var random = SeededRandom(seed: step.seed ^ 0x5043_4752_4144)
        let orders = model.tasks.indices.map { _ in random.permutation(model.tasks.count) }
        let projected = MultiTaskMath.pcGrad(perTask, order: { orders[$0] })
        var offset = 0
        for name in parameters.names {
            let count = parameters.count(named: name)
            let sources = model.taskGradients.compactMap { $0[name] }
            let penalty = model.penaltyGradients[name]
            let isShared = shared.contains(name)
            if isShared || (penalty != nil && !sources.isEmpty) {
                // A parameter that is not shared is reached by one task only.
                var values = isShared ? Array(projected[offset..<offset + count])
                                      : try step.summedOverProcesses(executor.read(sources[0]))
                if let penalty {
                    let extra = try step.summedOverProcesses(executor.read(penalty))
                    for i in values.indices { values[i] += extra[i] }
                }
                let target = try step.scratchBuffer(named: name, count: count)
                try step.backend.upload(values, to: target)
                result[name] = target
            } else if let only = sources.first ?? penalty {
                result[name] = try step.summedOverProcesses(executor.buffer(for: only), parameter: name)
            }
            if isShared { offset += count }
        }
        return result
    }

    func objective(losses: [Double]) -> Double { weightedSum(of: losses) }

    var needsEachStepsLosses: Bool { false }

    mutating func didStep(losses: [Double]) {}

    mutating func didFinishEpoch(meanLosses: [Double]) {}

    var state: [(name: String, values: [Float])] { [SavedWeightingState.tensor(SavedWeightingState.weightsName, weights)] }

    func restored(from saved: SavedWeightingState) throws -> PCGradWeighting {
        PCGradWeighting(weights: try saved.weights())
    }
}
