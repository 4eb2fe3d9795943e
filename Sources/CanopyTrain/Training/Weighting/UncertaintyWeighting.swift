import CanopyCore
import CanopyModel
import Foundation

/// Uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018; `uncertainty`): learned log-variances s_t, the loss
/// `Σ_t exp(−s_t)·L_t + s_t`, one joint backward pass per step with the weights `exp(−s_t)`.
///
/// After each step the log-variances take one Adam step (at the model's learning rate) along
/// ``MultiTaskMath/uncertaintyGradient(logVariances:losses:)``.
struct UncertaintyWeighting: WeightingMethod {
    /// The checkpoint name of the log-variances.
    static let logVariancesName = "weighting.log_variances"
    /// `exp(−s_t)`.
    private(set) var weights: [Double]
    /// The learned log-variances s_t, zero at the start.
    private(set) var logVariances: [Double]
    private var adam: ScalarAdam

    init(taskCount: Int, learningRate: Double) {
        weights = [Double](repeating: 1, count: taskCount)
        logVariances = [Double](repeating: 0, count: taskCount)
        adam = ScalarAdam(count: taskCount, learningRate: learningRate)
    }

    func stepOutputs(of model: ModelGraph) -> [Value] { StepRunner.jointGradientOutputs(of: model) }

    mutating func runStep(_ step: StepRunner) throws { try step.runForwardAndBackward(seeds: seeds) }

    func gradients(_ step: StepRunner) throws -> [String: DeviceBuffer] { try step.jointGradients() }

    func objective(losses: [Double]) -> Double {
        zip(logVariances, losses).reduce(0) { $0 + exp(-$1.0) * $1.1 + $1.0 }
    }

    var needsEachStepsLosses: Bool { true }

    mutating func didStep(losses: [Double]) {
        logVariances = adam.update(logVariances, gradient: MultiTaskMath.uncertaintyGradient(logVariances: logVariances, losses: losses))
        weights = logVariances.map { exp(-$0) }
    }

    mutating func didFinishEpoch(meanLosses: [Double]) {}

    var state: [(name: String, values: [Float])] {
        [SavedWeightingState.tensor(SavedWeightingState.weightsName, weights),
         SavedWeightingState.tensor(Self.logVariancesName, logVariances),
         (SavedWeightingState.adamName, adam.state)]
    }

    func restored(from saved: SavedWeightingState) throws -> UncertaintyWeighting {
        var copy = self
        copy.weights = try saved.weights()
        copy.logVariances = try saved.required(Self.logVariancesName)
        copy.adam = try saved.adam(adam)
        return copy
    }
}
