import CanopyModel
import Foundation

/// The learning rate of each optimizer step: linear warm-up, then constant, step or cosine decay.
public struct LearningRateSchedule: Sendable {
    /// The optimizer's learning rate, reached after warm-up.
    public let base: Float
    /// The schedule and warm-up the model file asks for.
    public let spec: ScheduleSpec
    /// Optimizer steps per epoch (batches per epoch), at least 1.
    public let stepsPerEpoch: Int
    /// Steps in the whole run, `stepsPerEpoch · epochs`; cosine decay reaches its minimum on the last one.
    public let totalSteps: Int
    /// The epochs the schedule spans (its horizon, which checkpoints keep).
    public var epochs: Int { totalSteps / stepsPerEpoch }

    /// Creates a schedule; `stepsPerEpoch` and `epochs` below 1 count as 1.
    public init(base: Float, spec: ScheduleSpec, stepsPerEpoch: Int, epochs: Int) {
        self.base = base
        self.spec = spec
        self.stepsPerEpoch = max(stepsPerEpoch, 1)
        totalSteps = self.stepsPerEpoch * max(epochs, 1)
    }

    /// How far 1-based step `step` is through the run: `(step − 1) / totalSteps`, 0 at the first step, below 1
    /// at the last (and past 1 only for steps beyond the horizon). Gradient reversal's schedule reads it.
    public func progress(atStep step: Int) -> Double { Double(step - 1) / Double(totalSteps) }

    /// The rate of 1-based step `step`. Warm-up rises linearly to the base rate over `warmupEpochs` epochs'
    /// steps (step k of W gets base·k/W); after it, `step` decays by epochs counted from the start of training,
    /// `cosine` from the end of warm-up to the last step.
    public func rate(atStep step: Int) -> Float {
        let warmup = spec.warmupEpochs * stepsPerEpoch
        if step <= warmup { return base * Float(step) / Float(max(warmup, 1)) }
        switch spec.kind {
        case .constant:
            return base
        case let .step(everyEpochs, gamma):
            let epoch = (step - 1) / stepsPerEpoch
            return base * pow(gamma, Float(epoch / max(everyEpochs, 1)))
        case let .cosine(minimum):
            let progress = Float(step - warmup - 1) / Float(max(totalSteps - warmup - 1, 1))
            return minimum + (base - minimum) * (1 + cos(Float.pi * min(progress, 1))) / 2
        }
    }
}

/// Adam on a few host-side scalars (uncertainty weighting's log-variances, GradNorm's weights).
public struct ScalarAdam: Sendable, Equatable {
    /// The step size.
    public var learningRate: Double
    /// Decay rates of the first and second moments, and the term added to the denominator (Adam's defaults).
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    /// First and second moment estimates, one per scalar.
    public private(set) var m: [Double], v: [Double]
    /// Updates made so far; the next update counts as number `step + 1` in its bias correction.
    public private(set) var step = 0

    /// Creates an optimizer for `count` scalars with zero moments.
    public init(count: Int, learningRate: Double) {
        self.learningRate = learningRate
        m = [Double](repeating: 0, count: count)
        v = [Double](repeating: 0, count: count)
    }

    /// Returns `values` moved one Adam step against `gradient`.
    public mutating func update(_ values: [Double], gradient: [Double]) -> [Double] {
        step += 1
        let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
        return values.indices.map { i in
            m[i] = beta1 * m[i] + (1 - beta1) * gradient[i]
            v[i] = beta2 * v[i] + (1 - beta2) * gradient[i] * gradient[i]
            return values[i] - learningRate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }

    /// The state as a flat array for checkpoints (step, m, v), doubles stored bit for bit.
    public var state: [Float] { DoubleBits.encode([Double(step)] + m + v) }

    /// Restores ``state``.
    ///
    /// - Throws: ``CheckpointError`` when the state is not one this Adam (of as many scalars) wrote: the wrong
    ///   size, a step count that is not a whole number from 0 to 2⁵³, or moments that are not finite (or a
    ///   negative second moment). Nothing changes then.
    public mutating func restore(_ state: [Float]) throws {
        let values = DoubleBits.decode(state)
        guard state.count == 2 * (1 + 2 * m.count) else {
            throw CheckpointError(file: "checkpoint", message: "weighting optimizer state has \(values.count) values, expected \(1 + 2 * m.count)")
        }
        guard values[0] >= 0, values[0] <= 9.007_199_254_740_992e15, values[0].rounded() == values[0] else {
            throw CheckpointError(file: "checkpoint", message: "weighting optimizer step \(values[0]) is not a whole number of steps")
        }
        guard values.allSatisfy(\.isFinite), values[(1 + m.count)...].allSatisfy({ $0 >= 0 }) else {
            throw CheckpointError(file: "checkpoint", message: "weighting optimizer moments hold a value that is not finite")
        }
        step = Int(values[0])
        m = Array(values[1...m.count])
        v = Array(values[(1 + m.count)...])
    }
}
