import CanopyModel
import Foundation

/// The task weights of a run and the state behind them: what seeds each task's loss gets in the backward pass,
/// and how they move (uncertainty's log-variances, GradNorm's weights, DWA's loss history).
///
/// The trainer asks for ``seeds`` before each step, reports the step's losses (and, for GradNorm, the weighted
/// gradient norms) afterwards, and reports each epoch's mean training losses.
public final class TaskWeighting {
    /// The weighting method (`train.weighting:`).
    public let spec: WeightingSpec
    /// The `weight:` of each task in the model file.
    public let fileWeights: [Double]
    /// The current weights (the loss seeds for methods that scale losses).
    public private(set) var weights: [Double]
    /// Uncertainty weighting's learned log-variances s_t (weights are exp(−s_t)).
    public private(set) var logVariances: [Double]
    private var adam: ScalarAdam
    /// GradNorm's first-step losses L_t(0).
    public private(set) var initialLosses: [Double]?
    /// DWA's mean training losses of the last two epochs (most recent last).
    public private(set) var epochLosses: [[Double]] = []

    /// - Parameter learningRate: the model's learning rate (uncertainty weighting's s uses it too).
    public init(_ spec: WeightingSpec, fileWeights: [Float], learningRate: Float) {
        self.spec = spec
        self.fileWeights = fileWeights.map(Double.init)
        let count = fileWeights.count
        logVariances = [Double](repeating: 0, count: count)
        switch spec {
        case .fixed, .pcGrad:
            weights = self.fileWeights
            adam = ScalarAdam(count: count, learningRate: Double(learningRate))
        case .uncertainty:
            weights = [Double](repeating: 1, count: count)
            adam = ScalarAdam(count: count, learningRate: Double(learningRate))
        case let .gradNorm(_, rate):
            weights = [Double](repeating: 1, count: count)
            adam = ScalarAdam(count: count, learningRate: Double(rate))
        case .dynamicWeightAverage, .mgda:
            weights = [Double](repeating: 1, count: count)
            adam = ScalarAdam(count: count, learningRate: Double(learningRate))
        }
    }

    /// Whether the method needs each task's gradient of the shared parameters every step.
    public var needsTaskGradients: Bool {
        switch spec {
        case .pcGrad, .gradNorm: return true
        default: return false
        }
    }

    /// The loss seeds for the next step.
    public var seeds: [Float] { weights.map(Float.init) }

    /// The total loss the method minimises, from the task losses (for progress reports).
    public func objective(losses: [Double]) -> Double {
        switch spec {
        case .uncertainty:
            return zip(logVariances, losses).reduce(0) { $0 + exp(-$1.0) * $1.1 + $1.0 }
        default:
            return zip(weights, losses).reduce(0) { $0 + $1.0 * $1.1 }
        }
    }

    /// Moves the weights after a step. `weightedNorms` are GradNorm's `G_t = ‖∇(w_t·L_t)‖` over the shared
    /// parameters (nil for other methods).
    public func didStep(losses: [Double], weightedNorms: [Double]?) {
        switch spec {
        case .uncertainty:
            logVariances = adam.update(logVariances, gradient: MultiTaskMath.uncertaintyGradient(logVariances: logVariances, losses: losses))
            weights = logVariances.map { exp(-$0) }
        case let .gradNorm(alpha, _):
            guard let norms = weightedNorms else { return }
            if initialLosses == nil { initialLosses = losses }
            let gradient = MultiTaskMath.gradNormGradient(weights: weights, weightedNorms: norms, losses: losses,
                                                          initialLosses: initialLosses!, alpha: Double(alpha))
            weights = MultiTaskMath.renormalized(adam.update(weights, gradient: gradient))
        default:
            break
        }
    }

    /// Sets the weights for MGDA-UB's step (min-norm α, scaled to sum to the number of tasks).
    public func setMinNormWeights(_ alpha: [Double]) {
        weights = alpha.map { $0 * Double(alpha.count) }
    }

    /// Records an epoch's mean training losses; DWA recomputes its weights from the last two.
    public func didFinishEpoch(meanLosses: [Double]) {
        epochLosses = Array((epochLosses + [meanLosses]).suffix(2))
        if case let .dynamicWeightAverage(temperature) = spec, epochLosses.count == 2 {
            weights = MultiTaskMath.dynamicWeightAverage(previous: epochLosses[1], beforePrevious: epochLosses[0],
                                                         temperature: Double(temperature))
        }
    }

    // MARK: Checkpoint state

    /// Every number the weighting needs to resume exactly, as named tensors (doubles stored bit for bit).
    public var state: [(name: String, values: [Float])] {
        var result: [(name: String, values: [Float])] = [
            ("weighting.weights", DoubleBits.encode(weights)),
            ("weighting.log_variances", DoubleBits.encode(logVariances)),
            ("weighting.adam", adam.state),
        ]
        if let initialLosses { result.append(("weighting.initial_losses", DoubleBits.encode(initialLosses))) }
        for (index, losses) in epochLosses.enumerated() {
            result.append(("weighting.epoch_losses.\(index)", DoubleBits.encode(losses)))
        }
        return result
    }

    /// The state ``restore(_:)`` would set, checked; nothing changes.
    struct SavedState {
        var weights: [Double], logVariances: [Double], adam: ScalarAdam, initialLosses: [Double]?, epochLosses: [[Double]]
    }

    /// Checks saved ``state`` against this weighting (a checkpoint is outside data) without changing anything.
    ///
    /// - Throws: ``CheckpointError`` when the saved weights, log-variances or optimizer state are missing, are
    ///   not for this many tasks, or hold a value that is not finite in float32 (or a negative weight).
    func checked(_ saved: [String: [Float]]) throws -> SavedState {
        let count = weights.count
        func doubles(_ key: String) throws -> [Double]? {
            guard let raw = saved[key] else { return nil }
            let values = DoubleBits.decode(raw)
            guard raw.count == 2 * count else {
                throw CheckpointError(file: "checkpoint", message: "'state.\(key)' holds \(raw.count / 2) values; "
                    + "the model has \(count) tasks")
            }
            guard values.allSatisfy({ $0.isFinite && abs($0) <= Double(Float.greatestFiniteMagnitude) }) else {
                throw CheckpointError(file: "checkpoint", message: "'state.\(key)' holds a value that is not finite")
            }
            return values
        }
        guard let w = try doubles("weighting.weights"), let s = try doubles("weighting.log_variances"),
              let a = saved["weighting.adam"] else {
            throw CheckpointError(file: "checkpoint", message: "the task-weighting state is missing")
        }
        guard w.allSatisfy({ $0 >= 0 }) else {
            throw CheckpointError(file: "checkpoint", message: "'state.weighting.weights' holds a negative weight")
        }
        var restoredAdam = adam
        try restoredAdam.restore(a)
        return SavedState(weights: w, logVariances: s, adam: restoredAdam,
                          initialLosses: try doubles("weighting.initial_losses"),
                          epochLosses: try (0..<2).compactMap { try doubles("weighting.epoch_losses.\($0)") })
    }

    /// Restores ``state``, checking every number first: a checkpoint is outside data.
    ///
    /// - Throws: what ``checked(_:)`` throws; nothing is changed then.
    public func restore(_ saved: [String: [Float]]) throws {
        apply(try checked(saved))
    }

    func apply(_ state: SavedState) {
        adam = state.adam
        weights = state.weights
        logVariances = state.logVariances
        initialLosses = state.initialLosses
        epochLosses = state.epochLosses
    }
}

/// Stores doubles in float32 tensors bit for bit: each double becomes two floats holding its high and low
/// 32 bits, so a checkpoint restores host-side state exactly.
public enum DoubleBits {
    /// Two floats per double: its high 32 bits, then its low 32 bits.
    public static func encode(_ values: [Double]) -> [Float] {
        values.flatMap { value -> [Float] in
            let bits = value.bitPattern
            return [Float(bitPattern: UInt32(truncatingIfNeeded: bits >> 32)), Float(bitPattern: UInt32(truncatingIfNeeded: bits))]
        }
    }

    /// The doubles ``encode(_:)`` stored; a trailing odd float is ignored.
    public static func decode(_ floats: [Float]) -> [Double] {
        stride(from: 0, to: floats.count - 1, by: 2).map { i in
            Double(bitPattern: UInt64(floats[i].bitPattern) << 32 | UInt64(floats[i + 1].bitPattern))
        }
    }
}
