import CanopyCore
import CanopyModel

/// Runs one training step's forward and backward passes and hands the optimizer its gradients, the way the
/// weighting method asks (see ``WeightingMethod``): the joint backward pass with the current weights as seeds,
/// per-task gradients combined on the host (PCGrad), or two phases (MGDA-UB). Adds soft sharing's trace-norm
/// gradient and optionally clips the global gradient norm, whatever the method.
final class StepRunner {
    let model: ModelGraph
    let parameters: ParameterStore
    let weighting: TaskWeighting
    let executor: Executor
    /// The current step's seed (dropout masks; PCGrad's projection order).
    private(set) var seed: UInt64 = 0
    private let classWeights: [[Float]?]
    private var rowMask: [Float]
    /// The loss seed last uploaded for each task (nil before the first, and for NaN).
    private var uploadedSeeds: [Float?]
    private var scratch: [String: DeviceBuffer] = [:]
    private var squaredNorms: [String: DeviceBuffer] = [:]

    /// Plans the step: each task's output, loss and labelled count, and the gradients the method needs.
    ///
    /// - Throws: ``ModelFileError`` when the model cannot support the weighting method; what planning throws.
    init(model: ModelGraph, parameters: ParameterStore, weighting: TaskWeighting, classWeights: [[Float]?]) throws {
        self.model = model
        self.parameters = parameters
        self.weighting = weighting
        self.classWeights = classWeights
        rowMask = [Float](repeating: 0, count: model.batchSize)
        uploadedSeeds = model.tasks.map { _ in nil }
        var outputs: [Value] = []
        for task in model.tasks { outputs += [task.output, task.loss, task.labelledCount] }
        outputs += try weighting.stepOutputs(of: model)
        executor = try Executor(graph: model.graph, backend: parameters.backend, parameters: parameters,
                                outputs: outputs, mode: .training)
        try model.uploadConstants(to: executor)
    }

    var backend: Backend { parameters.backend }

    /// Uploads the batch and the gradient-reversal factors at training progress `progress`, then runs the step's
    /// kernels (forward, backward, and any host work between phases).
    func compute(batch: Batch, seed: UInt64, progress: Double) throws {
        self.seed = seed
        try TaskInputs.upload(batch, model: model, to: executor, classWeights: classWeights, rowMask: &rowMask)
        try model.uploadReversalFactors(progress: progress, to: executor)
        try weighting.runStep(self)
    }

    /// The gradient buffers the optimizer should read, clipped to a global norm when asked.
    func gradients(clippedTo clipNorm: Float?) throws -> [String: DeviceBuffer] {
        var gradients = try weighting.gradients(self)
        try addTraceNormGradient(to: &gradients)
        guard let clipNorm else { return gradients }
        // Summed in graph order, so that the norm (and a resumed run) is the same bit for bit in every process.
        var total = 0.0
        for name in parameters.names {
            guard let buffer = gradients[name] else { continue }
            total += try squaredNorm(of: buffer, parameter: name, key: name)
        }
        let norm = total.squareRoot()
        guard norm > Double(clipNorm) else { return gradients }
        let factor = Float(Double(clipNorm) / norm)
        for (name, buffer) in gradients {
            let scaled = try scratchBuffer(named: name + "#clipped", count: parameters.count(named: name))
            try backend.execute(.scale(x: buffer, y: scaled, alpha: factor, count: parameters.count(named: name)))
            gradients[name] = scaled
        }
        return gradients
    }

    // MARK: For weighting methods

    /// Sets each task's loss seed: the weight its loss gets in the backward pass. Uploads only seeds that
    /// changed since the last call (fixed weights upload once per run, not once per step).
    func setSeeds(_ seeds: [Float]) throws {
        for (t, (task, seed)) in zip(model.tasks, seeds).enumerated() where executor.hasInput(task.weightInput) {
            guard uploadedSeeds[t] != seed else { continue }
            try executor.setInput(task.weightInput, [seed])
            uploadedSeeds[t] = seed
        }
    }

    /// Runs the step's nodes in `nodes` (all of them by default) with the step's seed.
    func run(nodes: Range<Int>? = nil) throws {
        try executor.run(seed: seed, nodes: nodes)
    }

    /// Sets the loss seeds and runs the whole step: the forward pass and the backward pass.
    func runForwardAndBackward(seeds: [Float]) throws {
        try setSeeds(seeds)
        try run()
    }

    /// The outputs ``jointGradients()`` reads: the joint backward pass's gradient of every parameter.
    static func jointGradientOutputs(of model: ModelGraph) -> [Value] { Array(model.gradients.values) }

    /// The joint backward pass's gradient buffers: `∂(Σ_t seed_t·L_t + penalties)/∂θ` for every parameter.
    func jointGradients() throws -> [String: DeviceBuffer] {
        var gradients: [String: DeviceBuffer] = [:]
        for (name, value) in model.gradients { gradients[name] = try executor.buffer(for: value) }
        return gradients
    }

    /// `‖x‖²` of a buffer as large as parameter `name`, reduced on the device into a one-element buffer kept
    /// under `key`, so only one scalar comes back.
    func squaredNorm(of buffer: DeviceBuffer, parameter name: String, key: String) throws -> Double {
        let scalar = try cachedBuffer(named: key, in: &squaredNorms, count: 1)
        try backend.execute(.sumOfSquares(x: buffer, y: scalar, count: parameters.count(named: name)))
        return Double(try backend.download(scalar)[0])
    }

    /// A host-filled buffer of `count` elements kept under `name` for the run.
    func scratchBuffer(named name: String, count: Int) throws -> DeviceBuffer {
        try cachedBuffer(named: name, in: &scratch, count: count)
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
                let penalty = try scratchBuffer(named: name + "#trace", count: count)
                try backend.upload(row.map { $0 * soft.traceNorm }, to: penalty)
                let total = try scratchBuffer(named: name + "#total", count: count)
                try backend.execute(.binary(.add, a: existing, b: penalty, y: total, count: count))
                gradients[name] = total
            }
        }
    }

    // MARK: Buffers

    private func cachedBuffer(named name: String, in cache: inout [String: DeviceBuffer], count: Int) throws -> DeviceBuffer {
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
