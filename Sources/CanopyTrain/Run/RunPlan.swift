import CanopyCore
import CanopyModel
import Foundation

/// Everything a training run decides before it allocates a buffer, with every rule that can refuse it: the
/// model file's rules, its data (loaded and checked against the tasks), the training graph at the planned batch
/// size, the memory that graph needs (checked against a device), class weights, and `init_from:` (read and
/// compared with the model's parameters) with `freeze:`.
///
/// ``Trainer`` starts from a plan and `canopy check` makes one, so anything `train` would refuse at start,
/// `check` refuses with the same message.
public struct RunPlan {
    /// The model file.
    public let spec: ModelSpec
    /// Shapes and parameter counts, layer by layer.
    public let summary: ModelSummary
    /// The training and validation rows.
    public let data: ModelData
    /// The training graph, built for ``MemoryPlan/batchSize`` rows per step (each process's share of a global
    /// batch in data-parallel training).
    public let model: ModelGraph
    /// How many processes share each batch (1 unless the run is data-parallel).
    public private(set) var processes: Int
    /// Rows in one global batch, whatever the number of processes: ``batchSize(_:rows:)``.
    public private(set) var globalBatchSize: Int
    /// The memory the run's buffers take.
    public let memory: MemoryPlan
    /// The map applied to every feature (`input.scale`, or `input.normalize` fitted on the training rows).
    public let transform: FeatureTransform
    /// Each task's class weights (nil for a task without them).
    public let classWeights: [[Float]?]
    /// Parameters the optimizer leaves alone (`freeze:`).
    public let frozen: Set<String>
    /// What `init_from:` will load, skip and freeze (nil without `init_from:`).
    public let transfer: TransferReport?
    /// The `init_from:` file's parameters, read once here and loaded by the trainer.
    let initialParameters: TrainingCheckpoint?

    /// Plans a run of `spec`.
    ///
    /// - Parameters:
    ///   - data: the rows to use, already split (default: load and split `spec.data`).
    ///   - device: the device the run will use; a plan that does not fit is refused (nil: not checked).
    ///   - processes: how many processes share each batch (data-parallel training): the global batch is still
    ///     `train.batch_size` rows, and each process's graph holds `⌈batch / processes⌉` of them, so a run's steps,
    ///     schedule and results do not depend on how many processes train it.
    /// - Throws: ``ModelFileError``, ``DataError`` or ``CheckpointError`` naming the file and the place.
    public init(_ spec: ModelSpec, data: ModelData? = nil, device: Backend?, processes: Int = 1) throws {
        self.spec = spec
        self.processes = max(1, processes)
        summary = try summarize(spec)   // a spec built in code gets the checks a model file gets
        if let data {
            // Rows given in code get the rule loaded rows get: every task needs a labelled training row.
            try ModelData.checkEveryTaskHasTrainingLabels(data.train, validation: data.validation, spec: spec)
            self.data = data
        } else {
            self.data = try Self.load(spec)
        }
        try ModelData.checkTokenIDs(self.data, spec: spec)
        globalBatchSize = Self.batchSize(spec, rows: self.data.train.rowCount)
        model = try ModelGraph.build(spec, batchSize: Batcher.Shard.rowsPerProcess(globalBatchSize: globalBatchSize,
                                                                                   count: self.processes),
                                     training: true)
        memory = try MemoryPlan.measure(model)
        if let device { try memory.check(against: device, spec: spec) }
        classWeights = try ClassWeighting.resolve(spec, model: model, train: self.data.train)
        transform = FeatureTransform.fitted(for: spec.input, on: self.data.train)
        frozen = summary.frozenParameterNames(spec.transfer.freeze)
        let graph = model.graph
        var names: [String] = [], shapes: [String: [Int]] = [:]
        for value in graph.parameters {
            guard let name = graph.name(of: value) else { continue }
            names.append(name)
            shapes[name] = graph.shape(of: value)
        }
        let initFrom = try Transfer.plan(spec.transfer, names: names, shapes: shapes, spec: spec, frozen: frozen)
        transfer = initFrom?.report
        initialParameters = initFrom?.parameters
    }

    /// Loads the data a spec names; a data error is placed at the model file's `data.source` too, so that it
    /// names both the data file and the model file that pointed at it (a renamed task reads a column the data
    /// does not have, say).
    static func load(_ spec: ModelSpec) throws -> ModelData {
        do {
            return try ModelData.load(for: spec)
        } catch let error as DataError {
            throw ModelFileError(location: spec.location(of: "data.source"), keyPath: "data.source",
                                 message: "\(error)")
        }
    }

    /// Rows per step in this process: `train.batch_size`, or all the training rows when there are fewer (a larger
    /// batch would only add masked padding rows and memory); its share of them in data-parallel training.
    public var batchSize: Int { model.batchSize }

    /// This plan as one process's run with this plan's batch (each process's share of a global batch): the work
    /// one process of a data-parallel run does in a step, for measuring it alone.
    public var oneProcessShare: RunPlan {
        var copy = self
        copy.processes = 1
        copy.globalBatchSize = batchSize
        return copy
    }

    /// Rows per step for `rows` rows of data: `train.batch_size`, or `rows` when there are fewer (at least 1).
    /// Training plans with it, and evaluation and prediction size their graphs with it too.
    public static func batchSize(_ spec: ModelSpec, rows: Int) -> Int { max(1, min(spec.train.batchSize, rows)) }
}
