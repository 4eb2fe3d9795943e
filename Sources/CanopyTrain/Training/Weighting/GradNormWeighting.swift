import CanopyCore
import CanopyModel

/// GradNorm (Chen et al., ICML 2018; `{gradnorm: {alpha: 1.5, lr: 0.025}}`): weights learned so that each task's
/// weighted gradient norm over the shared parameters, `G_t = ‖∇_shared(w_t·L_t)‖`, follows its relative
/// training rate. One joint backward pass per step that also keeps each task's shared gradients.
///
/// After each step the weights take one Adam step (at GradNorm's own rate) along
/// ``MultiTaskMath/gradNormGradient(weights:weightedNorms:losses:initialLosses:alpha:)``, then are renormalised
/// to sum to the number of tasks. The first step's losses are the reference `L_t(0)`.
struct GradNormWeighting: WeightingMethod {
    /// The checkpoint name of the first step's losses.
    static let initialLossesName = "weighting.initial_losses"
    /// The asymmetry α: how strongly tasks that train slowly are pulled up.
    let alpha: Double
    private(set) var weights: [Double]
    private var adam: ScalarAdam
    /// The first step's losses L_t(0) (nil before the first step).
    private(set) var initialLosses: [Double]?
    /// `G_t` of the last step, measured on the device (not saved: every step measures its own).
    private var weightedNorms: [Double]?

    init(taskCount: Int, alpha: Double, learningRate: Double) {
        self.alpha = alpha
        weights = [Double](repeating: 1, count: taskCount)
        adam = ScalarAdam(count: taskCount, learningRate: learningRate)
    }

    func stepOutputs(of model: ModelGraph) -> [Value] {
        StepRunner.jointGradientOutputs(of: model)
            + model.taskGradients.flatMap { gradients in model.sharedParameters.compactMap { gradients[$0] } }
    }

    mutating func runStep(_ step: StepRunner) throws {
        try step.runForwardAndBackward(seeds: seeds)
        // ‖g_t‖ over the shared parameters, reduced on the device: only one scalar per tensor comes back.
        let model = step.model
        if step.group.size > 1 {
            // The norm of the whole batch's gradient: each task's shared gradients summed over the processes first.
            weightedNorms = try model.taskGradients.indices.map { t in
                let summed = try step.summedOverProcesses(model.sharedGradient(ofTask: t, in: step.executor))
                return MultiTaskMath.dot(summed, summed).squareRoot()
            }
            return
        }
        weightedNorms = try model.taskGradients.enumerated().map { t, gradients in
            var total = 0.0
            for name in model.sharedParameters {
                guard let value = gradients[name] else { continue }
                total += try step.squaredNorm(of: step.executor.buffer(for: value), parameter: name, key: "\(name)#norm\(t)")
            }
            return total.squareRoot()
        }
    }

    func gradients(_ step: StepRunner) throws -> [String: DeviceBuffer] { try step.jointGradients() }

    func objective(losses: [Double]) -> Double { weightedSum(of: losses) }

    var needsEachStepsLosses: Bool { true }

    mutating func didStep(losses: [Double]) {
        guard let weightedNorms else { return }
        if initialLosses == nil { initialLosses = losses }
        let gradient = MultiTaskMath.gradNormGradient(weights: weights, weightedNorms: weightedNorms, losses: losses,
                                                      initialLosses: initialLosses!, alpha: alpha)
        weights = MultiTaskMath.renormalized(adam.update(weights, gradient: gradient))
    }

    mutating func didFinishEpoch(meanLosses: [Double]) {}

    var state: [(name: String, values: [Float])] {
        var result = [SavedWeightingState.tensor(SavedWeightingState.weightsName, weights),
                      (SavedWeightingState.adamName, adam.state)]
        if let initialLosses { result.append(SavedWeightingState.tensor(Self.initialLossesName, initialLosses)) }
        return result
    }

    func restored(from saved: SavedWeightingState) throws -> GradNormWeighting {
        var copy = self
        copy.weights = try saved.weights()
        copy.adam = try saved.adam(adam)
        copy.initialLosses = try saved.doubles(Self.initialLossesName)
        return copy
    }
}
