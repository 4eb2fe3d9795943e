import CanopyCore
import CanopyModel
import Foundation

/// What a finished epoch measured: every task's loss and metrics on the training steps and on validation.
public struct EpochReport: Sendable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Scores accumulated over the epoch's training steps (dropout active, parameters changing).
    public var train: [TaskScore]
    /// Scores on the validation rows after the epoch (empty when there are none).
    public var validation: [TaskScore]
    /// The total optimizer steps so far.
    public var steps: Int
    /// Wall-clock seconds the epoch took, validation included.
    public var seconds: Double
    /// Each task's loss weight at the end of the epoch (what the weighting method settled on).
    public var weights: [Double] = []
    /// The learning rate of the epoch's last step.
    public var learningRate: Float = 0
    /// Cosine similarity between each pair of tasks' gradients on the shared parameters, measured after the
    /// epoch on the first batches of the training rows (empty when tasks share no parameters).
    public var gradientCosines: [(first: String, second: String, cosine: Double)] = []
    /// Whether early stopping ends training after this epoch.
    public var stopsEarly = false
    /// Every optimizer step of the epoch, when `train.log_every_step` asks for them (empty otherwise).
    public var stepRecords: [StepRecord] = []
}

/// One optimizer step as `log_every_step` records it.
public struct StepRecord: Sendable {
    /// The 1-based step number over the whole run.
    public var step: Int
    /// Each task's loss on the step's batch, in model-file order.
    public var losses: [Double]
    /// Each task's weight for the step.
    public var weights: [Double]
    /// The step's learning rate.
    public var learningRate: Float
}

/// Receives progress from a ``Trainer``. Every method has an empty default.
public protocol TrainingObserver: AnyObject {
    /// After each optimizer step: the batch index (0-based) in the epoch, the batch count and the weighted loss.
    func trainer(_ trainer: Trainer, didFinishBatch batch: Int, of batchCount: Int, epoch: Int, loss: Double) throws
    /// After each epoch, validation included.
    func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws
}

extension TrainingObserver {
    /// Does nothing.
    public func trainer(_ trainer: Trainer, didFinishBatch batch: Int, of batchCount: Int, epoch: Int, loss: Double) throws {}
    /// Does nothing.
    public func trainer(_ trainer: Trainer, didFinishEpoch report: EpochReport) throws {}
}

/// Why training stopped early.
public enum TrainingError: Error, CustomStringConvertible, Sendable {
    /// A task's loss became NaN or infinite. Losses are read back a few steps at a time (see ``Trainer``), so the
    /// parameters in memory may have moved on past that step: only the files of the last finished epoch are good.
    case nonFiniteLoss(task: String, epoch: Int, step: Int, value: Float)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(task, epoch, step, value):
            return "task '\(task)': loss became \(value) at step \(step) (epoch \(epoch)); training stopped, and "
                + "the parameters in memory are not usable from that step on"
        }
    }
}

/// Trains a model spec on one backend: the loop reads top to bottom.
///
/// ```swift
/// let trainer = try Trainer(spec: spec, backend: CPUBackend())
/// let reports = try trainer.train()
/// print(reports.last!.validation)
/// ```
public final class Trainer {
    /// The model file the trainer was built from.
    public let spec: ModelSpec
    /// The training graph, built for `spec.train.batchSize`.
    public let model: ModelGraph
    /// The training and validation rows.
    public let data: ModelData
    /// The parameters being trained, on ``backend``.
    public let parameters: ParameterStore
    /// The optimizer and its state (velocity or moments) beside the parameters.
    public let optimizer: Optimizer
    /// The task weights and the state of the method that moves them.
    public let weighting: TaskWeighting
    /// The learning rate of each step. Its horizon (for cosine decay) is the run's `train.epochs` when it
    /// started, kept in the checkpoint, whatever later invocations train up to.
    public internal(set) var schedule: LearningRateSchedule
    /// Parameters the optimizer leaves alone (`freeze:`).
    public let frozen: Set<String>
    /// Epochs completed so far.
    public internal(set) var epochsCompleted = 0
    /// Every epoch's report so far.
    public internal(set) var history: [EpochReport] = []
    /// The epoch whose parameters the store holds: ``epochsCompleted``, or the best epoch after early stopping
    /// put its parameters back (`restore_best`).
    public internal(set) var parametersEpoch = 0
    /// What `init_from:` loaded, skipped and froze (nil without `init_from:`).
    public let transfer: TransferReport?
    /// The memory the run's buffers take, measured before allocating them.
    public let memoryPlan: MemoryPlan
    /// The processes that train the model together, each on its share of every batch (one process in an
    /// ordinary run; see ``init(plan:backend:group:)``).
    public let group: ProcessGroup
    let steps: StepRunner
    /// Where each step records its tasks' losses and outputs on the device, read back several steps at once.
    let readings: TaskReadings
    let evaluator: Evaluator
    var batcher: Batcher
    var batch: Batch
    /// What `input.augment` does to each training batch (nil for nothing), derived once from the spec.
    let augmentation: ImageAugmentation?
    var earlyStopping = EarlyStoppingState()
    var diagnostics: GradientDiagnostics?
    /// The best epoch's parameters, kept while early stopping with `restore_best` watches.
    var bestParameters: [String: [Float]]?

    /// Builds the graph, loads (or takes) the data, initialises parameters from `spec.train.seed` (then
    /// `init_from:` when given) and plans the training step on `backend`.
    ///
    /// The graph is planned for `train.batch_size` rows per step, or for the training rows when there are fewer,
    /// and the plan's memory is measured and checked against the device before any buffer is allocated.
    public convenience init(spec: ModelSpec, backend: Backend, data: ModelData? = nil) throws {
        try self.init(plan: RunPlan(spec, data: data, device: nil), backend: backend)
    }

    /// Starts a run from its plan (see ``RunPlan``), allocating its buffers on `backend` once the plan's memory
    /// is known to fit it.
    ///
    /// With a `group` of several processes (data-parallel training; the plan made for as many), every process of
    /// the group makes its trainer the same way and they train as one: each takes its share of every global
    /// batch, the gradients are summed over the processes before each optimizer step, the losses, metrics and
    /// validation scores are those of the whole batches and data sets, and the processes start from rank 0's
    /// parameters and state (see ``adoptRootState()``). Every public method that trains or evaluates is then a
    /// collective: all the processes must call it.
    ///
    /// - Throws: ``GraphError`` when the plan was made for another number of processes; what planning and
    ///   allocation throw.
    public init(plan: RunPlan, backend: Backend, group: ProcessGroup = LocalProcessGroup()) throws {
        let spec = plan.spec
        guard plan.processes == group.size else {
            throw GraphError("the run was planned for \(plan.processes) processes, but the group has \(group.size)")
        }
        self.group = group
        try plan.memory.check(against: backend, spec: spec)
        self.spec = spec
        data = plan.data
        memoryPlan = plan.memory
        model = plan.model
        frozen = plan.frozen
        parameters = try ParameterStore(graph: model.graph, backend: backend)
        try parameters.load(ParameterInitializer.initialValues(for: model.graph, seed: spec.train.seed))
        transfer = plan.transfer
        if let initial = plan.initialParameters { try loadParameters(from: initial, into: parameters, strict: false) }
        optimizer = try Optimizer(spec.train.optimizer, parameters: parameters)
        weighting = TaskWeighting(spec.train.weighting, fileWeights: spec.tasks.map(\.weight),
                                  learningRate: spec.train.optimizer.learningRate)
        batcher = try Batcher(dataset: data.train, batchSize: model.batchSize,
                              labelColumns: model.tasks.map(\.spec.label), transform: plan.transform)
            .sharded(Batcher.Shard(index: group.rank, count: group.size, globalBatchSize: plan.globalBatchSize))
        batch = batcher.makeBatch()
        augmentation = ImageAugmentation(spec.input.augment, shape: spec.input.shape)
        schedule = LearningRateSchedule(base: spec.train.optimizer.learningRate, spec: spec.train.schedule,
                                        stepsPerEpoch: batcher.batchCount, epochs: spec.train.epochs)
        steps = try StepRunner(model: model, parameters: parameters, weighting: weighting,
                               classWeights: plan.classWeights, group: group)
        readings = try TaskReadings(tasks: model.tasks, executor: steps.executor)
        evaluator = try Evaluator(model: model, parameters: parameters, transform: plan.transform, group: group)
        try adoptRootState()
    }

    /// The backend the trainer runs on.
    public var backend: Backend { parameters.backend }

    /// Optimizer steps in one epoch (batches of the training rows).
    public var stepsPerEpoch: Int { batcher.batchCount }

    /// Trains until `epochs` (default: the spec's) epochs are complete or early stopping ends the run; returns
    /// one report per epoch run now.
    ///
    /// With early stopping and `restore_best` (the default), the best epoch's parameters are put back when the
    /// call ends, as Keras's `restore_best_weights` does; ``parametersEpoch`` says which epoch the parameters
    /// are. The observer has already seen (and saved) every epoch's own state by then.
    public func train(epochs: Int? = nil, observer: TrainingObserver? = nil) throws -> [EpochReport] {
        var reports: [EpochReport] = []
        while epochsCompleted < (epochs ?? spec.train.epochs) {
            let report = try runEpoch(observer: observer)
            reports.append(report)
            try observer?.trainer(self, didFinishEpoch: report)
            if report.stopsEarly { break }
        }
        try restoreBestParameters()
        return reports
    }

    /// Puts the best epoch's parameters back when early stopping keeps them and the last epoch was not the best.
    private func restoreBestParameters() throws {
        guard spec.train.earlyStopping?.restoreBest == true, let bestParameters,
              earlyStopping.bestEpoch > 0, earlyStopping.bestEpoch != parametersEpoch else { return }
        try parameters.load(bestParameters)
        parametersEpoch = earlyStopping.bestEpoch
    }

    /// Runs one epoch over the shuffled training rows, then evaluates the validation rows.
    public func runEpoch(observer: TrainingObserver? = nil) throws -> EpochReport {
        let started = Date()
        let epoch = epochsCompleted + 1
        if spec.train.shuffle {
            batcher.shuffle(seed: SeedMixer.mix(spec.train.seed, 0x5348_5546, UInt64(epoch)))
        } else {
            batcher.resetOrder()
        }
        var accumulators = model.tasks.map { TaskAccumulator(task: $0) }
        var learningRate: Float = 0
        var stepRecords: [StepRecord] = []
        // Steps record their losses and outputs on the device, read back a record at a time (see TaskReadings),
        // at least every quarter second: the progress bar's pace.
        try runBatches(0..<batcher.batchCount, epoch: epoch, accumulators: &accumulators,
                       readingAtLeastEvery: 0.25) { step, losses in
            learningRate = step.learningRate
            if spec.train.logEveryStep {
                stepRecords.append(StepRecord(step: step.step, losses: losses, weights: weighting.weights,
                                              learningRate: step.learningRate))
            }
            try observer?.trainer(self, didFinishBatch: step.batchIndex, of: batcher.batchCount, epoch: epoch,
                                  loss: weighting.objective(losses: losses))
        }
        try backend.synchronize()
        epochsCompleted = epoch
        parametersEpoch = epoch
        let train = try accumulators.map { try $0.merged(over: group).score() }
        try averageStateOverProcesses()
        weighting.didFinishEpoch(meanLosses: train.map(\.loss))
        let validation = data.validation.rowCount > 0 ? try evaluator.evaluate(data.validation) : []
        var report = EpochReport(epoch: epoch, train: train, validation: validation, steps: optimizer.stepCount,
                                 seconds: 0, weights: weighting.weights, learningRate: learningRate)
        report.stepRecords = stepRecords
        report.gradientCosines = try measureGradientConflict()
        report.stopsEarly = try earlyStopping.update(with: report, spec: spec)
        if spec.train.earlyStopping?.restoreBest == true, earlyStopping.bestEpoch == epoch {
            bestParameters = try parameters.snapshot()
        }
        report.seconds = Date().timeIntervalSince(started)
        history.append(report)
        return report
    }

    /// Scores every task on a data set with the current parameters.
    public func evaluate(_ dataset: Dataset) throws -> [TaskScore] { try evaluator.evaluate(dataset) }
}

/// Derives independent seeds from the run seed, a purpose tag and a counter (SplitMix64 finalizer).
enum SeedMixer {
    static func mix(_ seed: UInt64, _ purpose: UInt64, _ counter: UInt64) -> UInt64 {
        var z = seed &+ purpose &* 0x9E37_79B9_7F4A_7C15 &+ counter &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
