import CanopyCore
import CanopyModel

/// One task's loss and metrics over a data set (or over an epoch of training steps).
public struct TaskScore: Sendable, Equatable {
    /// The task's name.
    public var task: String
    /// The mean loss over rows that have this task's label.
    public var loss: Double
    /// How many rows had this task's label. When none had, ``loss`` and every metric are NaN (the metrics log
    /// writes them as `null`): a task cannot be scored on rows without its label.
    public var labelledRows: Int
    /// Metric values in the order the model file lists them, by metric name (`accuracy`, `macro_f1`, ...).
    public var metrics: [(name: String, value: Double)]

    /// Creates a score from its parts.
    public init(task: String, loss: Double, labelledRows: Int, metrics: [(name: String, value: Double)]) {
        self.task = task; self.loss = loss; self.labelledRows = labelledRows; self.metrics = metrics
    }

    /// The value of a metric by name.
    public func metric(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }

    /// Equal when task, loss, labelled rows and every metric's name and value are equal, in order; like `Double`'s
    /// `==`, a NaN loss or metric makes two scores unequal.
    public static func == (a: TaskScore, b: TaskScore) -> Bool {
        a.task == b.task && a.loss == b.loss && a.labelledRows == b.labelledRows
            && a.metrics.map(\.name) == b.metrics.map(\.name) && a.metrics.map(\.value) == b.metrics.map(\.value)
    }
}

/// Runs a model forward (inference mode: no dropout) over a data set and scores every task.
public final class Evaluator {
    /// The model graph whose tasks are scored; its batch size is the evaluation batch size.
    public let model: ModelGraph
    /// The parameters the forward pass reads, on the backend evaluation runs on. Evaluation never changes them.
    public let parameters: ParameterStore
    /// The map applied to the features of every row (`input.scale`, or the normalisation fitted in training).
    public let transform: FeatureTransform?
    /// The processes that share the evaluation, each scoring every `size`-th batch from its rank on; the scores
    /// are those of the whole data set on every process (one process by default).
    public let group: ProcessGroup
    private let executor: Executor
    private let readings: TaskReadings

    /// Plans inference of `model` with the given parameters (on their backend); `transform` defaults to
    /// `input.scale` (pass the trainer's or the checkpoint's when the model normalises its input).
    public init(model: ModelGraph, parameters: ParameterStore, transform: FeatureTransform? = nil,
                group: ProcessGroup = LocalProcessGroup()) throws {
        self.model = model
        self.group = group
        self.parameters = parameters
        self.transform = transform
        var outputs: [Value] = []
        for task in model.tasks { outputs += [task.output, task.loss, task.labelledCount] }
        executor = try Executor(graph: model.graph, backend: parameters.backend, parameters: parameters,
                                outputs: outputs, mode: .inference, gathered: TaskReadings.recordedValues(of: model.tasks))
        readings = try TaskReadings(tasks: model.tasks, executor: executor)
        try model.uploadConstants(to: executor)
    }

    /// Scores every task on `dataset` (rows without a task's label do not count for that task). The batches'
    /// outputs are read back a record at a time (see ``TaskReadings``), not batch by batch. A collective when the
    /// group has several processes.
    public func evaluate(_ dataset: Dataset) throws -> [TaskScore] {
        let spec = model.spec
        var batcher = try Batcher(dataset: dataset, batchSize: model.batchSize, labelColumns: model.tasks.map(\.spec.label),
                                  transform: transform ?? .scaling(spec.input.scale, count: dataset.featureCount))
        var batch = batcher.makeBatch()
        var accumulators = model.tasks.map { TaskAccumulator(task: $0) }
        var rowMask = [Float](repeating: 0, count: model.batchSize)
        var pending: [BatchLabels] = []
        readings.discard()
        func readPending() throws {
            for (reading, labels) in zip(try readings.read(), pending) { labels.add(reading, to: &accumulators) }
            pending.removeAll(keepingCapacity: true)
        }
        batcher.resetOrder()
        for index in stride(from: group.rank, to: batcher.batchCount, by: group.size) {
            if readings.isFull { try readPending() }
            try batcher.fill(&batch, index: index)
            try TaskInputs.upload(batch, model: model, to: executor, rowMask: &rowMask)
            try executor.run()
            try readings.record()
            pending.append(BatchLabels(batch))
        }
        try readPending()
        return try accumulators.map { try $0.merged(over: group).score() }
    }
}

/// Uploads one batch into a planned model's inputs: features, and per task labels, mask and weight.
enum TaskInputs {
    /// Uploads a batch's features, and each task's labels and mask. With class weights for a task, its mask
    /// carries `mask · w[label]` (written through `rowMask`, a batch-sized scratch array), which turns the masked
    /// mean into the class-weighted mean.
    static func upload(_ batch: Batch, model: ModelGraph, to executor: Executor, classWeights: [[Float]?] = [],
                       rowMask: inout [Float]) throws {
        try uploadFeatures(batch, to: executor)
        for (t, task) in model.tasks.enumerated() {
            try executor.setInput(task.labelsInput, batch.labels[t])
            if t < classWeights.count, let weights = classWeights[t] {
                rowWeights(labels: batch.labels[t], mask: batch.masks[t], classWeights: weights, into: &rowMask)
                try executor.setInput(task.maskInput, rowMask)
            } else {
                try executor.setInput(task.maskInput, batch.masks[t])
            }
        }
    }
}

extension TaskInputs {
    /// Uploads a batch's features, and which of its rows are real when the plan reads that (batch norm).
    static func uploadFeatures(_ batch: Batch, to executor: Executor) throws {
        try executor.setInput(ModelGraph.inputName, batch.features)
        if executor.hasInput(ModelGraph.realRowsInputName) {
            try executor.setInput(ModelGraph.realRowsInputName, batch.realRows)
        }
    }
}
