import CanopyCore
import CanopyModel

/// Applies optimizer updates to a ``ParameterStore`` from gradient buffers, keeping the optimizer's state
/// (momentum or Adam moments) in device buffers beside the parameters.
///
/// When the parameters lie in one arena (``ParameterStore/layout``), the state does too, laid out alike, and a
/// step whose gradients are a whole ``GradientArena`` is one update kernel over the arenas (one per run of
/// consecutive trained parameters when some are frozen); otherwise a step enqueues one update kernel per parameter. Both give the same numbers: every optimizer is
/// element-wise, and the gaps between parameters are zeros that every update keeps zero.
public final class Optimizer {
    /// The optimizer and its hyperparameters; ``step(gradients:learningRate:skipping:)`` may override the rate.
    public let spec: OptimizerSpec
    /// The parameters updated in place, on the backend every update runs on.
    public let parameters: ParameterStore
    /// The number of updates applied so far (Adam's bias correction uses it).
    public private(set) var stepCount = 0
    /// Per parameter: velocity (SGD) or first and second moments (Adam).
    private var state: [String: [DeviceBuffer]] = [:]
    /// The state tensors as arenas laid out like the parameters (when the parameters have an arena).
    private var stateArenas: [DeviceBuffer] = []
    /// One launch's span of the parameter, gradient and state arenas.
    private struct UpdateRun {
        let param: DeviceBuffer, gradient: DeviceBuffer, state: [DeviceBuffer], count: Int
    }
    private struct RunKey: Hashable {
        let skipped: Set<String>, gradients: ObjectIdentifier
    }
    /// The runs of each skipped set and gradient arena seen, so that a step makes no views.
    private var runCache: [RunKey: [UpdateRun]] = [:]

    /// Allocates zero-filled state beside every trainable parameter (one tensor per ``stateNames`` entry: a
    /// velocity for SGD, two moments for Adam), in arenas laid out like the parameters' when they have one.
    public init(_ spec: OptimizerSpec, parameters: ParameterStore) throws {
        self.spec = spec
        self.parameters = parameters
        let tensors = stateNames.count
        if let layout = parameters.layout {
            var arenas: [(buffer: DeviceBuffer, views: [String: DeviceBuffer])] = []
            for _ in 0..<tensors { if let made = try layout.makeArena(on: parameters.backend) { arenas.append(made) } }
            if arenas.count == tensors {
                stateArenas = arenas.map(\.buffer)
                for name in layout.names { state[name] = arenas.map { $0.views[name]! } }
                return
            }
        }
        for name in parameters.trainableNames {
            let count = max(parameters.count(named: name), 1)
            state[name] = try (0..<tensors).map { _ in try parameters.backend.makeBuffer(count: count) }
        }
    }

    /// The names of the state tensors of a parameter, in the order ``stateSnapshot()`` uses.
    public var stateNames: [String] {
        switch spec {
        case .sgd: return ["velocity"]
        case .adam: return ["m", "v"]
        case .rmsprop: return ["square", "buffer"]
        }
    }

    /// Updates every parameter that has a gradient, except those in `skipping` (frozen ones). `learningRate`
    /// overrides the spec's (for schedules).
    ///
    /// - Parameter arena: the gradient arena the gradients may be views of; when `gradients` is exactly the
    ///   whole arena, one kernel updates every parameter (one per run of consecutive parameters in the arena
    ///   when some are skipped).
    public func step(gradients: [String: DeviceBuffer], learningRate: Float? = nil, skipping: Set<String> = [],
                     arena: GradientArena? = nil) throws {
        stepCount += 1
        if let arena, parameters.arena != nil, stateArenas.count == stateNames.count, arena.layout == parameters.layout,
           arena.isWhole(gradients) {
            for run in try runs(of: arena, skipping: skipping) {
                try update(param: run.param, gradient: run.gradient, state: run.state, count: run.count,
                           learningRate: learningRate)
            }
            return
        }
        for name in parameters.trainableNames {
            guard !skipping.contains(name), let gradient = gradients[name], let param = parameters.buffer(named: name),
                  let buffers = state[name] else { continue }
            try update(param: param, gradient: gradient, state: buffers, count: parameters.count(named: name),
                       learningRate: learningRate)
        }
    }

    /// The arenas' spans to update: the whole arenas when nothing is skipped, else one view of each per run of
    /// consecutive parameters (arena order) that are not skipped. Views are made once per skipped set and arena.
    private func runs(of arena: GradientArena, skipping: Set<String>) throws -> [UpdateRun] {
        let layout = arena.layout
        let skipped = skipping.intersection(layout.names)
        guard !skipped.isEmpty else {
            return [UpdateRun(param: parameters.arena!, gradient: arena.buffer, state: stateArenas, count: layout.count)]
        }
        let key = RunKey(skipped: skipped, gradients: ObjectIdentifier(arena.buffer))
        if let known = runCache[key] { return known }
        var result: [UpdateRun] = [], start: String?, end = 0
        func close() throws {
            guard let first = start else { return }
            let offset = layout.offsets[first]!, count = end - offset
            let backend = parameters.backend
            result.append(UpdateRun(param: try backend.makeView(of: parameters.arena!, offset: offset, count: count),
                                    gradient: try backend.makeView(of: arena.buffer, offset: offset, count: count),
                                    state: try stateArenas.map { try backend.makeView(of: $0, offset: offset, count: count) },
                                    count: count))
            start = nil
        }
        for name in layout.names {
            if skipped.contains(name) { try close(); continue }
            if start == nil { start = name }
            end = layout.offsets[name]! + layout.counts[name]!
        }
        try close()
        runCache[key] = result
        return result
    }

    /// Enqueues the update of `count` elements of `param` from `gradient`, with the state tensors `buffers`.
    private func update(param: DeviceBuffer, gradient: DeviceBuffer, state buffers: [DeviceBuffer], count: Int,
                        learningRate: Float?) throws {
        let backend = parameters.backend
        switch spec {
        case let .sgd(lr, momentum, weightDecay):
            try backend.execute(.sgdUpdate(param: param, grad: gradient, velocity: buffers[0], count: count,
                hyper: SGDHyperparameters(learningRate: learningRate ?? lr, momentum: momentum, weightDecay: weightDecay)))
        case let .adam(lr, beta1, beta2, epsilon, weightDecay):
            try backend.execute(.adamUpdate(param: param, grad: gradient, m: buffers[0], v: buffers[1], count: count,
                hyper: AdamHyperparameters(learningRate: learningRate ?? lr, beta1: beta1, beta2: beta2,
                                           epsilon: epsilon, weightDecay: weightDecay, step: stepCount)))
        case let .rmsprop(lr, alpha, epsilon, momentum, weightDecay):
            try backend.execute(.rmspropUpdate(param: param, grad: gradient, square: buffers[0], buffer: buffers[1],
                count: count, hyper: RMSpropHyperparameters(learningRate: learningRate ?? lr, alpha: alpha,
                                                            epsilon: epsilon, momentum: momentum,
                                                            weightDecay: weightDecay)))
        }
    }

    /// The optimizer state, by `"<parameter>.<state name>"`, for checkpoints.
    public func stateSnapshot() throws -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for (name, buffers) in state {
            for (stateName, buffer) in zip(stateNames, buffers) {
                result["\(name).\(stateName)"] = Array(try parameters.backend.download(buffer).prefix(parameters.count(named: name)))
            }
        }
        return result
    }

    /// Checks state saved by ``stateSnapshot()`` against this optimizer's parameters without changing anything.
    ///
    /// - Throws: ``CheckpointError`` naming the first state tensor that is missing, has the wrong size or holds
    ///   a value that is not finite.
    public func check(state saved: [String: [Float]]) throws {
        for name in parameters.trainableNames {
            for stateName in stateNames {
                let key = "\(name).\(stateName)"
                guard let values = saved[key] else {
                    throw CheckpointError(file: "checkpoint", message: "no optimizer state '\(key)' (was it written by another optimizer?)")
                }
                guard values.count == parameters.count(named: name) else {
                    throw CheckpointError(file: "checkpoint", message: "optimizer state '\(key)' has \(values.count) values, the parameter \(parameters.count(named: name))")
                }
                guard values.allSatisfy(\.isFinite) else {
                    throw CheckpointError(file: "checkpoint", message: "optimizer state '\(key)' holds NaN or infinite values")
                }
            }
        }
    }

    /// Restores state saved by ``stateSnapshot()`` and the step count.
    ///
    /// - Throws: what ``check(state:)`` throws, before anything is restored, so a resumed run never continues
    ///   with half of its optimizer state.
    public func restore(state saved: [String: [Float]], stepCount: Int) throws {
        try check(state: saved)
        for name in parameters.trainableNames {
            for (stateName, buffer) in zip(stateNames, state[name]!) {
                try parameters.backend.upload(saved["\(name).\(stateName)"]!, to: buffer)
            }
        }
        self.stepCount = stepCount
    }
}
