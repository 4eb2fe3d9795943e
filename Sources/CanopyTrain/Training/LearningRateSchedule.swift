import CanopyModel
import Foundation

/// The learning rate of each optimizer step: linear warm-up, then constant, step or cosine decay.
public struct LearningRateSchedule: Sendable {
    public let base: Float
    public let spec: ScheduleSpec
    public let stepsPerEpoch: Int
    public let totalSteps: Int

    public init(base: Float, spec: ScheduleSpec, stepsPerEpoch: Int, epochs: Int) {
        self.base = base
        self.spec = spec
        self.stepsPerEpoch = max(stepsPerEpoch, 1)
        totalSteps = self.stepsPerEpoch * max(epochs, 1)
    }

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
    public var learningRate: Double
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    public private(set) var m: [Double], v: [Double]
    public private(set) var step = 0

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
    public mutating func restore(_ state: [Float]) {
        let values = DoubleBits.decode(state)
        guard values.count == 1 + 2 * m.count else { return }
        step = Int(values[0])
        m = Array(values[1...m.count])
        v = Array(values[(1 + m.count)...])
    }
}
