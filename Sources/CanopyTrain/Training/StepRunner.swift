import CanopyCore
import CanopyModel

/// Computes one training step's gradients the way the weighting method asks: the joint backward pass with the
/// current weights (fixed, uncertainty, DWA, GradNorm), per-task gradients combined by projection (PCGrad), or a
/// first phase that finds MGDA-UB's min-norm weights from the gradients at the shared representation, then the
/// joint backward pass with them. Optionally clips the global gradient norm.
final class StepRunner {
    let model: ModelGraph
    let parameters: ParameterStore
    let weighting: TaskWeighting
    let executor: Executor
    /// GradNorm's `G_t = ‖∇_shared(w_t·L_t)‖` of the last step.
    private(set) var lastWeightedNorms: [Double]?
    private let classWeights: [[Float]?]
    private var rowMask: [Float]
    private var stepSeed: UInt64 = 0
    private var scratch: [String: DeviceBuffer] = [:]
    private var squaredNorms: [String: DeviceBuffer] = [:]

    init(model: ModelGraph, parameters: ParameterStore, weighting: TaskWeighting, classWeights: [[Float]?]) throws {
        self.model = model
        self.parameters = parameters
        self.weighting = weighting
        self.classWeights = classWeights
        rowMask = [Float](repeating: 0, count: model.batchSize)
        var outputs: [Value] = []
        for task in model.tasks { outputs += [task.output, task.loss, task.labelledCount] }
        switch weighting.spec {
        case .pcGrad:
            outputs += model.taskGradients.flatMap(\.values) + model.penaltyGradients.values
        case .gradNorm:
            outputs += model.gradients.values
            outputs += model.taskGradients.flatMap { gradients in model.sharedParameters.compactMap { gradients[$0] } }
        case .mgda:
            guard model.sharedRepresentation != nil, model.representationGradients.count == model.tasks.count else {
                throw ModelFileError(location: model.spec.location(of: "train.weighting"), keyPath: "train.weighting",
                                     message: "mgda needs a representation all tasks share (hard sharing, mmoe or a "
                                         + "graph whose tasks read one node); use pcgrad")
            }
            outputs += model.representationGradients + model.gradients.values
        default:
            outputs += model.gradients.values
        }
        executor = try Executor(graph: model.graph, backend: parameters.backend, parameters: parameters,
                                outputs: outputs, mode: .training)
        try model.uploadConstants(to: executor)
    }

    var backend: Backend { parameters.backend }

    /// Uploads the batch and runs the step's kernels (forward, backward, and any host work between phases).
    func compute(batch: Batch, seed: UInt64) throws {
        stepSeed = seed
        try TaskInputs.upload(batch, model: model, to: executor, classWeights: classWeights, rowMask: &rowMask)
        switch weighting.spec {
        case .mgda:
            try setSeeds([Float](repeating: 1, count: model.tasks.count))
            try executor.run(seed: seed, nodes: 0..<model.jointBackwardStart)
            let gradients = try model.representationGradients.map { try executor.read($0) }
            weighting.setMinNormWeights(MultiTaskMath.minNormWeights(gram: MultiTaskMath.gram(gradients)))
            try setSeeds(weighting.seeds)
            try executor.run(seed: seed, nodes: model.jointBackwardStart..<Int.max)
        default:
            try setSeeds(weighting.seeds)
            try executor.run(seed: seed)
        }
        if case .gradNorm = weighting.spec {
            // ‖g_t‖ over the shared parameters, reduced on the device: only one scalar per tensor comes back.
            lastWeightedNorms = try model.taskGradients.enumerated().map { t, gradients in
                var total = 0.0
                for name in model.sharedParameters {
                    guard let value = gradients[name] else { continue }
                    let scalar = try buffer(named: "\(name)#norm\(t)", in: &squaredNorms, count: 1)
                    try backend.execute(.sumOfSquares(x: try executor.buffer(for: value), y: scalar,
                                                      count: parameters.count(named: name)))
                    total += Double(try backend.download(scalar)[0])
                }
                return total.squareRoot()
            }
        }
    }

    /// The gradient buffers the optimizer should read, clipped to a global norm when asked.
    func gradients(clippedTo clipNorm: Float?) throws -> [String: DeviceBuffer] {
        var gradients: [String: DeviceBuffer] = [:]
        if case .pcGrad = weighting.spec {
            gradients = try projectedGradients()
        } else {
            for (name, value) in model.gradients { gradients[name] = try executor.buffer(for: value) }
        }
        try addTraceNormGradient(to: &gradients)
        guard let clipNorm else { return gradients }
        // Summed in graph order, so that the norm (and a resumed run) is the same bit for bit in every process.
        var total = 0.0
        for name in parameters.names {
            guard let buffer = gradients[name] else { continue }
            let scalar = try self.buffer(named: name, in: &squaredNorms, count: 1)
            try backend.execute(.sumOfSquares(x: buffer, y: scalar, count: parameters.count(named: name)))
            total += Double(try backend.download(scalar)[0])
        }
        let norm = total.squareRoot()
        guard norm > Double(clipNorm) else { return gradients }
        let factor = Float(Double(clipNorm) / norm)
        for (name, buffer) in gradients {
            let scaled = try self.buffer(named: name + "#clipped", in: &scratch, count: parameters.count(named: name))
            try backend.execute(.scale(x: buffer, y: scaled, alpha: factor, count: parameters.count(named: name)))
            gradients[name] = scaled
        }
        return gradients
    }

    // MARK: Trace norm

    /// Soft sharing's trace-norm penalty `μ·Σ_groups ‖[vec P_1; …; vec P_T]‖_*`: its gradient, computed on the
    /// host from the current parameters, is added to each tied parameter's gradient.
    private func addTraceNormGradient(to gradients: inout [String: DeviceBuffer]) throws {
        guard case let .soft(soft) = model.spec.scheme, soft.traceNorm > 0 else { return }
        for group in model.tiedParameters {
            let rows = try group.map { try backend.download(parameters.buffer(named: $0)!) }
            let (_, gradient) = MultiTaskMath.traceNorm(rows)
            for (name, row) in zip(group, gradient) {
                guard let existing = gradients[name] else { continue }
                let count = parameters.count(named: name)
                let penalty = try buffer(named: name + "#trace", in: &scratch, count: count)
                try backend.upload(row.map { $0 * soft.traceNorm }, to: penalty)
                let total = try buffer(named: name + "#total", in: &scratch, count: count)
                try backend.execute(.binary(.add, a: existing, b: penalty, y: total, count: count))
                gradients[name] = total
            }
        }
    }

    // MARK: PCGrad

    /// Per-task gradients; where several tasks (or a penalty) reach a parameter, the host combines them:
    /// PCGrad over the concatenated shared parameters, plus the penalty's gradient.
    private func projectedGradients() throws -> [String: DeviceBuffer] {
        var result: [String: DeviceBuffer] = [:]
        let shared = Set(model.sharedParameters)
        let perTask = try model.taskGradients.indices.map { try model.sharedGradient(ofTask: $0, in: executor) }
        var random = SeededRandom(seed: stepSeed ^ 0x5043_4752_4144)
        let orders = model.tasks.indices.map { _ in random.permutation(model.tasks.count) }
        let projected = MultiTaskMath.pcGrad(perTask, order: { orders[$0] })
        var offset = 0
        for name in parameters.names {
            let count = parameters.count(named: name)
            let sources = model.taskGradients.compactMap { $0[name] }
            let penalty = model.penaltyGradients[name]
            let isShared = shared.contains(name)
            if isShared || (penalty != nil && !sources.isEmpty) {
                // A parameter that is not shared is reached by one task only.
                var values = isShared ? Array(projected[offset..<offset + count]) : try executor.read(sources[0])
                if let penalty {
                    let extra = try executor.read(penalty)
                    for i in values.indices { values[i] += extra[i] }
                }
                let target = try buffer(named: name, in: &scratch, count: count)
                try backend.upload(values, to: target)
                result[name] = target
            } else if let only = sources.first ?? penalty {
                result[name] = try executor.buffer(for: only)
            }
            if isShared { offset += count }
        }
        return result
    }


    // MARK: Inputs

    private func setSeeds(_ seeds: [Float]) throws {
        let inputs = Set(executor.inputNames)
        for (task, seed) in zip(model.tasks, seeds) where inputs.contains(task.weightInput) {
            try executor.setInput(task.weightInput, [seed])
        }
    }

    private func buffer(named name: String, in cache: inout [String: DeviceBuffer], count: Int) throws -> DeviceBuffer {
        if let existing = cache[name] { return existing }
        let made = try backend.makeBuffer(count: max(count, 1))
        cache[name] = made
        return made
    }
}

extension ModelGraph {
    /// Task `t`'s gradient over the shared parameters, concatenated in ``sharedParameters`` order (zeros for a
    /// shared parameter the task does not reach), read from an executor that planned it.
    func sharedGradient(ofTask t: Int, in executor: Executor) throws -> [Float] {
        var vector: [Float] = []
        for name in sharedParameters {
            if let value = taskGradients[t][name] { vector += try executor.read(value) }
            else { vector += [Float](repeating: 0, count: graph.count(of: graph.parameter(named: name)!)) }
        }
        return vector
    }
}
