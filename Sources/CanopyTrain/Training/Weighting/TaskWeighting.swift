import CanopyCore
import CanopyModel

/// The task weights of a run and the method that moves them (see ``WeightingSpec``): what seed each task's loss
/// gets in the backward pass, how a training step computes its gradients, and the state to resume from.
///
/// The trainer runs each step through it, reports the step's losses afterwards and each epoch's mean training
/// losses. Each method is one type (`FixedWeighting`, `UncertaintyWeighting`, `GradNormWeighting`,
/// `DynamicWeightAverage`, `PCGradWeighting`, `MGDAWeighting`); this class is their common face.
public final class TaskWeighting {
    /// The weighting method (`train.weighting:`).
    public let spec: WeightingSpec
    /// The `weight:` of each task in the model file.
    public let fileWeights: [Double]
    /// The method and its state.
    private(set) var method: any WeightingMethod

    /// - Parameter learningRate: the model's learning rate (uncertainty weighting's log-variances use it too).
    public init(_ spec: WeightingSpec, fileWeights: [Float], learningRate: Float) {
        self.spec = spec
        self.fileWeights = fileWeights.map(Double.init)
        method = spec.makeMethod(fileWeights: self.fileWeights, learningRate: learningRate)
    }

    /// The current weights (the loss seeds for methods that scale losses).
    public var weights: [Double] { method.weights }

    /// The loss seeds for the next step.
    public var seeds: [Float] { method.seeds }

    /// The total loss the method minimises, from the task losses (for progress reports).
    public func objective(losses: [Double]) -> Double { method.objective(losses: losses) }

    // MARK: The training step

    /// The gradients the step's executor must output for the method (see ``WeightingMethod``).
    func stepOutputs(of model: ModelGraph) throws -> [Value] { try method.stepOutputs(of: model) }

    /// Runs the step's forward and backward passes the method's way.
    func runStep(_ step: StepRunner) throws { try method.runStep(step) }

    /// The step's gradient buffers as the method combines them.
    func gradients(_ step: StepRunner) throws -> [String: DeviceBuffer] { try method.gradients(step) }

    /// Whether the trainer must read each step's losses before the next step (see ``WeightingMethod``).
    var needsEachStepsLosses: Bool { method.needsEachStepsLosses }

    /// Moves the weights after a step.
    func didStep(losses: [Double]) { method.didStep(losses: losses) }

    /// Moves the weights after an epoch, from its mean training losses.
    func didFinishEpoch(meanLosses: [Double]) { method.didFinishEpoch(meanLosses: meanLosses) }

    // MARK: Checkpoint state

    /// Every number the weighting needs to resume exactly, as named tensors (doubles stored bit for bit):
    /// `weighting.weights`, and the method's own (`weighting.log_variances`, `weighting.adam`,
    /// `weighting.initial_losses`, `weighting.epoch_losses.0` and `.1`).
    public var state: [(name: String, values: [Float])] { method.state }

    /// The state ``restore(_:)`` would set, checked; nothing changes.
    struct SavedState {
        fileprivate var method: any WeightingMethod
    }

    /// Checks saved ``state`` against this weighting (a checkpoint is outside data) without changing anything.
    ///
    /// - Throws: ``CheckpointError`` when the state the method needs is missing, is not for this many tasks, or
    ///   holds a value that is not finite in float32 (or a negative weight).
    func checked(_ saved: [String: [Float]]) throws -> SavedState {
        SavedState(method: try method.restored(from: SavedWeightingState(tensors: saved, taskCount: fileWeights.count)))
    }

    /// Restores ``state``, checking every number first: a checkpoint is outside data.
    ///
    /// - Throws: what ``checked(_:)`` throws; nothing is changed then.
    public func restore(_ saved: [String: [Float]]) throws {
        apply(try checked(saved))
    }

    func apply(_ state: SavedState) {
        method = state.method
    }
}
