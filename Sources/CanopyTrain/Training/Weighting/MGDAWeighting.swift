import CanopyCore
import CanopyModel

/// MGDA-UB (Sener & Koltun, NeurIPS 2018; `mgda`): each step's weights are the min-norm combination of the tasks'
/// gradients with respect to the shared representation (``MultiTaskMath/minNormWeights(gram:iterations:tolerance:)``),
/// scaled to sum to the number of tasks.
///
/// A step runs in two phases: the forward pass and each task's backward pass to the representation with unit
/// seeds; then, with the min-norm weights as seeds, the joint backward pass through the shared layers.
struct MGDAWeighting: WeightingMethod {
    /// The last step's weights (all ones before the first).
    private(set) var weights: [Double]

    init(taskCount: Int) {
        weights = [Double](repeating: 1, count: taskCount)
    }

    func stepOutputs(of model: ModelGraph) throws -> [Value] {
        guard model.sharedRepresentation != nil, model.representationGradients.count == model.tasks.count else {
            throw ModelFileError(location: model.spec.location(of: "train.weighting"), keyPath: "train.weighting",
                                 message: "mgda needs a representation all tasks share (hard sharing, mmoe or a "
                                     + "graph whose tasks read one node); use pcgrad")
        }
        return model.representationGradients + StepRunner.jointGradientOutputs(of: model)
    }

    mutating func runStep(_ step: StepRunner) throws {
        let model = step.model
        try step.setSeeds([Float](repeating: 1, count: model.tasks.count))
        try step.run(nodes: 0..<model.jointBackwardStart)
        let gradients = try model.representationGradients.map { try step.executor.read($0) }
        // Each process holds its rows of the representation: the whole batch's Gram matrix is the sum of theirs.
        let local = MultiTaskMath.gram(gradients)
        let summed = try step.group.allreduceSum(local.flatMap { $0 })
        let gram = local.indices.map { i in Array(summed[(i * local.count)..<((i + 1) * local.count)]) }
        let alpha = MultiTaskMath.minNormWeights(gram: gram)
        weights = alpha.map { $0 * Double(alpha.count) }
        try step.setSeeds(seeds)
        try step.run(nodes: model.jointBackwardStart..<Int.max)
    }

    func gradients(_ step: StepRunner) throws -> [String: DeviceBuffer] { try step.jointGradients() }

    func objective(losses: [Double]) -> Double { weightedSum(of: losses) }

    var needsEachStepsLosses: Bool { true }

    mutating func didStep(losses: [Double]) {}

    mutating func didFinishEpoch(meanLosses: [Double]) {}

    var state: [(name: String, values: [Float])] { [SavedWeightingState.tensor(SavedWeightingState.weightsName, weights)] }

    func restored(from saved: SavedWeightingState) throws -> MGDAWeighting {
        var copy = self
        copy.weights = try saved.weights()
        return copy
    }
}
