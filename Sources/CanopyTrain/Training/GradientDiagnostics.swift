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

    init?(model: ModelGraph, parameters: ParameterStore, train: Dataset, transform: FeatureTransform) throws {
        guard model.tasks.count > 1, !model.sharedParameters.isEmpty, train.rowCount > 0 else { return nil }
        self.model = model
        let outputs = model.taskGradients.flatMap { gradients in model.sharedParameters.compactMap { gradients[$0] } }
        executor = try Executor(graph: model.graph, backend: parameters.backend, parameters: parameters,
                                outputs: outputs, mode: .training)
        try model.uploadConstants(to: executor)
        batcher = try Batcher(dataset: train, batchSize: model.batchSize, labelColumns: model.tasks.map(\.spec.label),
                              transform: transform)
        batch = batcher.makeBatch()
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
            for task in model.tasks where executor.inputNames.contains(task.weightInput) {
                try executor.setInput(task.weightInput, [1])
            }
            // A measurement: batch norm's running statistics must not move.
            try executor.run(seed: 0x4449_4147 &+ UInt64(index), updatingState: false)
            for t in model.tasks.indices {
                let vector = try model.sharedGradient(ofTask: t, in: executor)
                if sums[t].isEmpty { sums[t] = vector; continue }
                // Through buffer pointers: `sums[t][i] +=` checks the nested array's uniqueness at every element.
                sums[t].withUnsafeMutableBufferPointer { sum in
                    vector.withUnsafeBufferPointer { terms in for i in terms.indices { sum[i] += terms[i] } }
                }
            }
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
                                                  transform: batcher.transform)
        }
        return try diagnostics?.measure(progress: schedule.progress(atStep: max(optimizer.stepCount, 1))) ?? []
    }
}
