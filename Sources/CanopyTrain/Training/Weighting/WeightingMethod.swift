import CanopyCore
import CanopyModel

/// One task-weighting method: everything Canopy does differently for it, in one type and one file (as LibMTL
/// keeps one file per method). Adding a method means a new conforming type, one line in
/// ``WeightingSpec/makeMethod(fileWeights:learningRate:)``, its model-file keyword and its tests.
///
/// A training step asks the method, in this order:
/// 1. ``stepOutputs(of:)``, once, when the step is planned: which gradients the executor must keep;
/// 2. ``runStep(_:)``: run the forward and backward passes on the uploaded batch (setting the loss seeds, and any
///    host work between phases);
/// 3. ``objective(losses:)``: the loss it minimises, for progress reports;
/// 4. ``gradients(_:)``: the gradient buffers the optimizer follows;
/// 5. ``didStep(losses:)`` after the optimizer's step, and ``didFinishEpoch(meanLosses:)`` after each epoch.
///
/// Methods are values: ``restored(from:)`` returns a checked copy and leaves the method as it was, so a
/// checkpoint is restored all or nothing.
protocol WeightingMethod {
    /// The current task weights: the loss seeds of the backward pass, and what each epoch's report shows.
    var weights: [Double] { get }

    /// The gradients the step's executor must output, besides each task's output, loss and labelled count.
    ///
    /// - Throws: ``ModelFileError`` at `train.weighting` when the model cannot support the method.
    func stepOutputs(of model: ModelGraph) throws -> [Value]

    /// Runs the step's forward and backward passes on the batch the step runner uploaded.
    mutating func runStep(_ step: StepRunner) throws

    /// The step's gradient of each parameter it reaches, before the trace-norm penalty and clipping.
    func gradients(_ step: StepRunner) throws -> [String: DeviceBuffer]

    /// The total loss the method minimises, from the step's task losses.
    func objective(losses: [Double]) -> Double

    /// Moves the weights after the optimizer's step, from the step's task losses.
    mutating func didStep(losses: [Double])

    /// Whether the method needs each step's losses on the host before the next step runs, or moves its weights
    /// within an epoch. When false (the weights hold still through an epoch and ``didStep(losses:)`` does
    /// nothing), the trainer reads the losses of several steps at once, and a step makes no blocking read.
    var needsEachStepsLosses: Bool { get }

    /// Moves the weights after an epoch, from its mean training losses (in task order).
    mutating func didFinishEpoch(meanLosses: [Double])

    /// Every number the method needs to resume exactly, as named tensors (doubles stored bit for bit).
    var state: [(name: String, values: [Float])] { get }

    /// A copy holding the saved ``state``, every number checked first; `self` does not change.
    ///
    /// - Throws: ``CheckpointError`` when a tensor the method needs is missing, is not for this many tasks, or
    ///   holds a value it cannot use.
    func restored(from saved: SavedWeightingState) throws -> Self
}

extension WeightingMethod {
    /// The loss seeds for the backward pass: the weights in float32.
    var seeds: [Float] { weights.map(Float.init) }

    /// `Σ_t w_t·L_t` with the current weights.
    func weightedSum(of losses: [Double]) -> Double {
        zip(weights, losses).reduce(0) { $0 + $1.0 * $1.1 }
    }
}

extension WeightingSpec {
    /// The method's type, at the start of a run. The only place that tells the methods apart by their spec.
    ///
    /// - Parameters:
    ///   - fileWeights: each task's `weight:` from the model file.
    ///   - learningRate: the model's learning rate (uncertainty weighting's log-variances move with it).
    func makeMethod(fileWeights: [Double], learningRate: Float) -> any WeightingMethod {
        let count = fileWeights.count
        switch self {
        case .fixed: return FixedWeighting(weights: fileWeights)
        case .uncertainty: return UncertaintyWeighting(taskCount: count, learningRate: Double(learningRate))
        case let .gradNorm(alpha, rate): return GradNormWeighting(taskCount: count, alpha: Double(alpha), learningRate: Double(rate))
        case let .dynamicWeightAverage(temperature): return DynamicWeightAverage(taskCount: count, temperature: Double(temperature))
        case .pcGrad: return PCGradWeighting(weights: fileWeights)
        case .mgda: return MGDAWeighting(taskCount: count)
        }
    }
}
