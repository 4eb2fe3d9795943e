import CanopyCore
import CanopyModel

/// Measures gradient conflict between tasks: the cosine similarity of each pair of tasks' gradients on the
/// shared parameters, summed over a few training batches (the first ones in file order, dropout on as in
/// training, with a fixed dropout seed), with the current parameters.
final class GradientDiagnostics {
    /// Batches per measurement.
    static let batchCount = 4
    private let model: ModelGraph
    private let executor: Executor
    private var batcher: Batcher
    private var batch: Batch
    private let group: ProcessGroup

    /// Plans the measurement; nil when there is nothing to measure (one task, nothing shared, no rows). With
    /// several processes (`shard`, `group`), each measures its share of the same batches and the gradients are
    /// summed over the processes, so every process gets the cosines one process gets with the whole batches.
    init?(model: ModelGraph, parameters: ParameterStore, train: Dataset, transform: FeatureTransform,
          shard: Batcher.Shard, group: ProcessGroup) throws {
        guard model.tasks.count > 1, !model.sharedParameters.isEmpty, train.rowCount > 0 else { return nil }
        self.model = model
        // The tasks' shared gradients end to end in one buffer: a batch's measurement is one download.
        executor = try Executor(graph: model.graph, backend: parameters.backend, parameters: parameters,
                                outputs: [], mode: .training, gathered: model.sharedGradientValues)
        try model.uploadConstants(to: executor)
        batcher = try Batcher(dataset: train, batchSize: model.batchSize, labelColumns: model.tasks.map(\.spec.label),
                              transform: transform).sharded(shard)
        batch = batcher.makeBatch()
        self.group = group
        executor.firstRowOfBatch = shard.index * model.batchSize
    }

    /// Every pair's cosine, in task order (first < second), with gradient reversals at training progress
    /// `progress` (that of the last step taken).
    func measure(progress: Double) throws -> [(first: String, second: String, cosine: Double)] {
        try model.uploadReversalFactors(progress: progress, to: executor)
        var sums = model.tasks.map { _ in [Float]() }
        var rowMask = [Float](repeating: 0, count: model.batchSize)
        for index in 0..<min(Self.batchCount, batcher.batchCount) {
            try batcher.fill(&batch, index: index)
            try TaskInputs.upload(batch, model: model, to: executor, rowMask: &rowMask)
            // The losses here have no class weights (the upload above gives none), so neither have the shares.
            let shares = group.size > 1 ? batcher.processShares(ofBatch: index, classWeights: [])
                                        : model.tasks.map { _ in 1 }
            for (task, share) in zip(model.tasks, shares) where executor.inputNames.contains(task.weightInput) {
                try executor.setInput(task.weightInput, [share])
            }
            // A measurement: batch norm's running statistics must not move.
            try executor.run(seed: 0x4449_4147 &+ UInt64(index), updatingState: false)
            for (t, vector) in try model.sharedGradients(in: executor).enumerated() {
                if sums[t].isEmpty { sums[t] = vector; continue }
                // Through buffer pointers: `sums[t][i] +=` checks the nested array's uniqueness at every element.
                sums[t].withUnsafeMutableBufferPointer { sum in
                    vector.withUnsafeBufferPointer { terms in for i in terms.indices { sum[i] += terms[i] } }
                }
            }
        }
        if group.size > 1 {
            for t in sums.indices { try sums[t].withUnsafeMutableBufferPointer { try group.allreduceSum($0) } }
        }
        var result: [(first: String, second: String, cosine: Double)] = []
        for a in model.tasks.indices {
            for b in model.tasks.indices where b > a {
                result.append((model.tasks[a].spec.name, model.tasks[b].spec.name, MultiTaskMath.cosine(sums[a], sums[b])))
            }
        }
        return result
    }
}

extension Trainer {
    /// The gradient-conflict measurement after an epoch (empty when tasks share no parameters).
    func measureGradientConflict() throws -> [(first: String, second: String, cosine: Double)] {
        if diagnostics == nil {
            diagnostics = try GradientDiagnostics(model: model, parameters: parameters, train: data.train,
                                                  transform: batcher.transform,
                                                  shard: Batcher.Shard(index: group.rank, count: group.size,
                                                                       globalBatchSize: batcher.globalBatchSize),
                                                  group: group)
        }
        return try diagnostics?.measure(progress: schedule.progress(atStep: max(optimizer.stepCount, 1))) ?? []
    }
}
