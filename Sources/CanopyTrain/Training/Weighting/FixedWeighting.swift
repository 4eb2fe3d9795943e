import CanopyCore
import CanopyModel

/// Fixed weights (`fixed`, the default): the loss `Σ_t w_t·L_t` with each task's `weight:` from the model file,
/// one joint backward pass per step.
struct FixedWeighting: WeightingMethod {
    /// The model file's weights (a resumed run keeps the ones it was saved with).
    private(set) var weights: [Double]

    init(weights: [Double]) {
        self.weights = weights
    }

    func stepOutputs(of model: ModelGraph) -> [Value] { StepRunner.jointGradientOutputs(of: model) }

    mutating func runStep(_ step: StepRunner) throws { try step.runForwardAndBackward(seeds: seeds) }

    func gradients(_ step: StepRunner) throws -> [String: DeviceBuffer] { try step.jointGradients() }

    func objective(losses: [Double]) -> Double { weightedSum(of: losses) }

    var needsEachStepsLosses: Bool { false }

    mutating func didStep(losses: [Double]) {}

    mutating func didFinishEpoch(meanLosses: [Double]) {}

    var state: [(name: String, values: [Float])] { [SavedWeightingState.tensor(SavedWeightingState.weightsName, weights)] }

    func restored(from saved: SavedWeightingState) throws -> FixedWeighting {
        FixedWeighting(weights: try saved.weights())
    }
}
