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
    /// The joint gradients end to end, laid out like the parameters (nil when the backend makes no views): the
    /// plan writes them there, so that the optimizer can update every parameter in one launch.
    let gradientArena: GradientArena?
    /// The processes that share each batch, whose gradients ``jointGradients()`` and ``summedOverProcesses(_:)``
    /// add up (one process in an ordinary run).
    let group: ProcessGroup
    /// Each task's loss-seed factor for the current batch: its share of the global batch's labelled rows (see
    /// ``Batcher/processShares(ofBatch:classWeights:)``); all 1 in a one-process run.
    var seedFactors: [Float]
    /// The current step's seed, the same in every process (dropout masks, PCGrad's projection order).
    private(set) var seed: UInt64 = 0
    /// Each task's class weights (nil for a task without them).
    let classWeights: [[Float]?]
    private var rowMask: [Float]
    /// The loss seed last uploaded for each task (nil before the first, and for NaN).
    private var uploadedSeeds: [Float?]
    private var scratch: [String: DeviceBuffer] = [:]
    private var squaredNorms: [String: DeviceBuffer] = [:]
    private var clipped: GradientArena?
    private let exchange: GradientExchange
    /// When the joint gradients lie whole in the arena and the processes sum them: which arena buckets are final
    /// after which planned kernel, so that each is summed while the backward pass goes on (nil otherwise).
    private var overlappedExchange: GradientExchange.Plan?

    /// Plans the step: each task's output, loss and labelled count, and the gradients the method needs.
    ///
    /// - Throws: ``ModelFileError`` when the model cannot support the weighting method; what planning throws.
    init(model: ModelGraph, parameters: ParameterStore, weighting: TaskWeighting, classWeights: [[Float]?],
         group: ProcessGroup = LocalProcessGroup()) throws {
        self.model = model
        self.group = group
        seedFactors = model.tasks.map { _ in 1 }
        self.parameters = parameters
        self.weighting = weighting
        self.classWeights = classWeights
        rowMask = [Float](repeating: 0, count: model.batchSize)
        uploadedSeeds = model.tasks.map { _ in nil }
        var outputs: [Value] = []
        for task in model.tasks { outputs += [task.output, task.loss, task.labelledCount] }
        outputs += try weighting.stepOutputs(of: model)
        gradientArena = try GradientArena(for: parameters)
        executor = try Executor(graph: model.graph, backend: parameters.backend, parameters: parameters,
                                outputs: outputs, mode: .training, gradientArena: gradientArena,
                                gradientValues: model.gradients, gathered: TaskReadings.recordedValues(of: model.tasks))
        try model.uploadConstants(to: executor)
        exchange = GradientExchange(group: group, backend: parameters.backend)
        // Dropout draws each element's mask from its place in the global batch, as one process would.
        executor.firstRowOfBatch = group.rank * model.batchSize
        if group.size > 1, let arena = gradientArena, Set(outputs).isSuperset(of: model.gradients.values),
           arena.isWhole(try model.gradients.mapValues { try executor.buffer(for: $0) }) {
            overlappedExchange = exchange.plan(count: arena.layout.count, writes: try executor.gradientArenaWrites())
        }
        if group.size > 1 {
            // Every process adds the whole penalty's gradient, so each adds its share: their sum is the penalty's.
            for penalty in model.penalties where executor.hasInput(penalty.seedInput) {
                let seed = model.constants[penalty.seedInput]!.map { $0 / Float(group.size) }
                try executor.setInput(penalty.seedInput, seed)
            }
        }
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

    /// The gradient buffers the optimizer should read, clipped to a global norm when asked, and the arena they
    /// make up when they are a whole one (then one optimizer launch updates every parameter).
    func gradients(clippedTo clipNorm: Float?) throws -> (buffers: [String: DeviceBuffer], arena: GradientArena?) {
        var gradients = try weighting.gradients(self)
        try addTraceNormGradient(to: &gradients)
        let whole = gradientArena.flatMap { $0.isWhole(gradients) ? $0 : nil }
        guard let clipNorm else { return (gradients, whole) }
        if let whole, let clipped = try clippedArena() {
            // The whole arena at once: one reduction, one scalar read, one scaling (gaps are zeros).
            let count = whole.layout.count
            let scalar = try cachedBuffer(named: "#arena-norm", in: &squaredNorms, count: 1)
            try backend.execute(.sumOfSquares(x: whole.buffer, y: scalar, count: count))
            let norm = Double(try backend.download(scalar)[0]).squareRoot()
            guard norm > Double(clipNorm) else { return (gradients, whole) }
            try backend.execute(.scale(x: whole.buffer, y: clipped.buffer, alpha: Float(Double(clipNorm) / norm), count: count))
            return (clipped.views, clipped)
        }
        // Summed in graph order, so that the norm (and a resumed run) is the same bit for bit in every process.
        var total = 0.0
        for name in parameters.names {
            guard let buffer = gradients[name] else { continue }
            total += try squaredNorm(of: buffer, parameter: name, key: name)
        }
        let norm = total.squareRoot()
        guard norm > Double(clipNorm) else { return (gradients, nil) }
        let factor = Float(Double(clipNorm) / norm)
        for (name, buffer) in gradients {
            let scaled = try scratchBuffer(named: name + "#clipped", count: parameters.count(named: name))
            try backend.execute(.scale(x: buffer, y: scaled, alpha: factor, count: parameters.count(named: name)))
            gradients[name] = scaled
        }
        return (gradients, nil)
    }

    /// A second gradient arena that clipped gradients are scaled into, made on first use.
    private func clippedArena() throws -> GradientArena? {
        if clipped == nil { clipped = try GradientArena(for: parameters) }
        return clipped
    }

    // MARK: For weighting methods

    /// Sets each task's loss seed: the weight its loss gets in the backward pass, times the task's
    /// ``seedFactors`` (its process's share of the batch). Uploads only seeds that changed since the last call
    /// (fixed weights upload once per run, not once per step).
    func setSeeds(_ seeds: [Float]) throws {
        for (t, (task, weight)) in zip(model.tasks, seeds).enumerated() where executor.hasInput(task.weightInput) {
            let seed = weight * seedFactors[t]
            guard uploadedSeeds[t] != seed else { continue }
            try executor.setInput(task.weightInput, [seed])
            uploadedSeeds[t] = seed
        }
    }

    /// Runs the step's nodes in `nodes` (all of them by default) with the step's seed. With several processes, the
    /// joint gradients' buckets start summing as the kernels finish them.
    func run(nodes: Range<Int>? = nil) throws {
        guard let overlappedExchange, let arena = gradientArena else { return try executor.run(seed: seed, nodes: nodes) }
        if !exchange.isActive { try exchange.begin(arena.buffer, count: arena.layout.count, plan: overlappedExchange) }
        try executor.run(seed: seed, nodes: nodes) { [exchange] in
            try exchange.kernelFinished($0)
        }
    }

    /// Sets the loss seeds and runs the whole step: the forward pass and the backward pass.
    func runForwardAndBackward(seeds: [Float]) throws {
        try setSeeds(seeds)
        try run()
    }

    /// The outputs ``jointGradients()`` reads: the joint backward pass's gradient of every parameter.
    static func jointGradientOutputs(of model: ModelGraph) -> [Value] { Array(model.gradients.values) }

    /// The joint backward pass's gradient buffers: `∂(Σ_t seed_t·L_t + penalties)/∂θ` for every parameter, summed
    /// over the processes (in place) when several share the batch.
    func jointGradients() throws -> [String: DeviceBuffer] {
        var gradients: [String: DeviceBuffer] = [:]
        for (name, value) in model.gradients { gradients[name] = try executor.buffer(for: value) }
        guard group.size > 1 else { return gradients }
        if overlappedExchange != nil {
            try exchange.finish()
        } else if let arena = gradientArena, arena.isWhole(gradients) {
            try exchange.sum(arena.buffer, count: arena.layout.count)
        } else {
            for name in parameters.names {
                guard let buffer = gradients[name] else { continue }
                try exchange.sum(buffer, count: parameters.count(named: name))
            }
        }
        return gradients
    }

    /// A gradient buffer as large as parameter `name`, summed over the processes in place (returned as it is in a
    /// one-process run).
    func summedOverProcesses(_ buffer: DeviceBuffer, parameter name: String) throws -> DeviceBuffer {
        try exchange.sum(buffer, count: parameters.count(named: name))
        return buffer
    }

    /// What summing gradients over the processes has cost so far.
    var communication: CommunicationStatistics { exchange.statistics }

    /// `values` summed element-wise over the processes (itself in a one-process run): for host-side work on
    /// gradients that must see the whole batch's (PCGrad's per-task gradients, MGDA's Gram matrix).
    func summedOverProcesses(_ values: [Float]) throws -> [Float] {
        guard group.size > 1 else { return values }
        var result = values
        try result.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
        return result
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
        try sharedGradient(ofTask: t) { try executor.read($0) }
    }

    /// Every task's ``sharedGradient(ofTask:in:)``; with one download when the executor gathers all of them
    /// (planned with `gathered: sharedGradientValues`), else a read per value.
    func sharedGradients(in executor: Executor) throws -> [[Float]] {
        guard let gathered = executor.gathered, Set(sharedGradientValues).isSubset(of: gathered.values) else {
            return try tasks.indices.map { try sharedGradient(ofTask: $0, in: executor) }
        }
        let all = try executor.backend.download(gathered.buffer)
        let slices = Dictionary(gathered.values.indices.map { (gathered.values[$0], $0) }, uniquingKeysWith: { a, _ in a })
        return try tasks.indices.map { t in
            try sharedGradient(ofTask: t) { value in
                let i = slices[value]!
                return Array(all[gathered.offsets[i]..<gathered.offsets[i] + gathered.counts[i]])
            }
        }
    }

    /// Every task's gradient values over the shared parameters, task after task.
    var sharedGradientValues: [Value] {
        taskGradients.flatMap { gradients in sharedParameters.compactMap { gradients[$0] } }
    }

    private func sharedGradient(ofTask t: Int, reading read: (Value) throws -> [Float]) throws -> [Float] {
        var vector: [Float] = []
        for name in sharedParameters {
            if let value = taskGradients[t][name] { vector += try read(value) }
            else { vector += [Float](repeating: 0, count: graph.count(of: graph.parameter(named: name)!)) }
        }
        return vector
    }
}
