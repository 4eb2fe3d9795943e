import CanopyCore
import CanopyModel

/// Dynamic Weight Average (Liu, Johns & Davison, CVPR 2019; `{dwa: {temperature: 2}}`): after each epoch, the
/// weights follow how fast each task's mean training loss fell over the two epochs before
/// (``MultiTaskMath/dynamicWeightAverage(previous:beforePrevious:temperature:)``); all ones until two epochs
/// are known. One joint backward pass per step.
struct DynamicWeightAverage: WeightingMethod {
    /// The checkpoint name of the `index`th remembered epoch's losses (0 the older).
    static func epochLossesName(_ index: Int) -> String { "weighting.epoch_losses.\(index)" }
    /// The softmax temperature τ: larger evens the weights out.
    let temperature: Double
    private(set) var weights: [Double]
    /// The mean training losses of the last two epochs (most recent last).
    private(set) var epochLosses: [[Double]] = []

    init(taskCount: Int, temperature: Double) {
        self.temperature = temperature
        weights = [Double](repeating: 1, count: taskCount)
    }

    func stepOutputs(of model: ModelGraph) -> [Value] { StepRunner.jointGradientOutputs(of: model) }

    mutating func runStep(_ step: StepRunner) throws { try step.runForwardAndBackward(seeds: seeds) }

    func gradients(_ step: StepRunner) throws -> [String: DeviceBuffer] { try step.jointGradients() }

    func objective(losses: [Double]) -> Double { weightedSum(of: losses) }

    var needsEachStepsLosses: Bool { false }

    mutating func didStep(losses: [Double]) {}

    mutating func didFinishEpoch(meanLosses: [Double]) {
        epochLosses = Array((epochLosses + [meanLosses]).suffix(2))
        if epochLosses.count == 2 {
            weights = MultiTaskMath.dynamicWeightAverage(previous: epochLosses[1], beforePrevious: epochLosses[0],
                                                         temperature: temperature)
        }
    }

    var state: [(name: String, values: [Float])] {
        [SavedWeightingState.tensor(SavedWeightingState.weightsName, weights)]
            + epochLosses.enumerated().map { SavedWeightingState.tensor(Self.epochLossesName($0.offset), $0.element) }
    }

    func restored(from saved: SavedWeightingState) throws -> DynamicWeightAverage {
        var copy = self
        copy.weights = try saved.weights()
        copy.epochLosses = try (0..<2).compactMap { try saved.doubles(Self.epochLossesName($0)) }
        return copy
    }
}
