import CanopyCore
import Foundation

// KernelCalls for losses, element-wise kernels, reductions, dropout and optimizers.

extension KernelCalls {
    /// Logits in [-4, 4]; rows 1 and 4 unlabelled with NaN labels.
    public static func softmaxCrossEntropy(rows: Int, classes: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let (labels, mask) = labelsAndMask(rows: rows, classes: classes, random: &random)
        return KernelCall("softmaxCrossEntropy \(rows)×\(classes)", buffers: [
            "logits": random.floats(rows * classes, in: -4...4), "labels": labels, "mask": mask,
            "probs": .nan(rows * classes), "rowLoss": .nan(rows)], outputs: ["probs", "rowLoss"]) {
            .softmaxCrossEntropy(logits: try $0["logits"], labels: try $0["labels"], mask: try $0["mask"],
                                 probs: try $0["probs"], rowLoss: try $0["rowLoss"], rows: rows, classes: classes)
        }
    }

    /// Random probabilities (not normalised: the kernel must not care); rows 1 and 4 unlabelled.
    public static func softmaxCrossEntropyBackward(rows: Int, classes: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let (labels, mask) = labelsAndMask(rows: rows, classes: classes, random: &random)
        return KernelCall("softmaxCrossEntropyBackward \(rows)×\(classes)", buffers: [
            "probs": random.floats(rows * classes, in: 0...1), "labels": labels, "mask": mask,
            "dRowLoss": random.floats(rows), "dLogits": .nan(rows * classes)], outputs: ["dLogits"]) {
            .softmaxCrossEntropyBackward(probs: try $0["probs"], labels: try $0["labels"], mask: try $0["mask"],
                                         dRowLoss: try $0["dRowLoss"], dLogits: try $0["dLogits"],
                                         rows: rows, classes: classes)
        }
    }

    public static func maskedMean(rows: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let (_, mask) = labelsAndMask(rows: rows, classes: 1, random: &random)
        let rowLoss = zip(random.floats(rows, in: 0...3), mask).map { $0 * $1 }
        return KernelCall("maskedMean \(rows)", buffers: ["rowLoss": rowLoss, "mask": mask, "loss": .nan(1),
                          "count": .nan(1)], outputs: ["loss", "count"]) {
            .maskedMean(rowLoss: try $0["rowLoss"], mask: try $0["mask"], loss: try $0["loss"],
                        count: try $0["count"], rows: rows)
        }
    }

    public static func maskedMeanBackward(rows: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let (_, mask) = labelsAndMask(rows: rows, classes: 1, random: &random)
        return KernelCall("maskedMeanBackward \(rows)", buffers: ["dLoss": [random.float(in: -2...2)], "mask": mask,
                          "count": [mask.reduce(0, +)], "dRowLoss": .nan(rows)], outputs: ["dRowLoss"]) {
            .maskedMeanBackward(dLoss: try $0["dLoss"], mask: try $0["mask"], count: try $0["count"],
                                dRowLoss: try $0["dRowLoss"], rows: rows)
        }
    }

    /// `y = f(x)` for x in [-4, 4] (relu inputs kept away from 0).
    public static func unary(_ function: UnaryFunction, count: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let x = function == .relu ? random.floatsAwayFromZero(count, maximum: 4) : random.floats(count, in: -4...4)
        return KernelCall("unary.\(function.rawValue) \(count)", buffers: ["x": x, "y": .nan(count)], outputs: ["y"]) {
            .unary(function, x: try $0["x"], y: try $0["y"], count: count)
        }
    }

    /// `dx = f′(x)·dy` with y = f(x) computed on the host in double.
    public static func unaryBackward(_ function: UnaryFunction, count: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let x = function == .relu ? random.floatsAwayFromZero(count, maximum: 4) : random.floats(count, in: -4...4)
        let y = x.map { Float(referenceUnary(function, Double($0))) }
        return KernelCall("unaryBackward.\(function.rawValue) \(count)",
                          buffers: ["x": x, "y": y, "dy": random.floats(count), "dx": .nan(count)], outputs: ["dx"]) {
            .unaryBackward(function, x: try $0["x"], y: try $0["y"], dy: try $0["dy"], dx: try $0["dx"], count: count)
        }
    }

    /// A derivative and its bias gradient in one call, over [outer, channels, inner] (x and y consistent as in
    /// ``unaryBackward(_:count:seed:)``).
    public static func unaryBackwardBiasGradient(_ function: UnaryFunction, outer: Int, channels: Int, inner: Int,
                                                 seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let count = outer * channels * inner
        let x = function == .relu ? random.floatsAwayFromZero(count, maximum: 4) : random.floats(count, in: -4...4)
        let y = x.map { Float(referenceUnary(function, Double($0))) }
        return KernelCall("unaryBackwardBiasGradient.\(function.rawValue) \(outer)×\(channels)×\(inner)",
                          buffers: ["x": x, "y": y, "dy": random.floats(count), "dx": .nan(count), "dBias": .nan(channels)],
                          outputs: ["dx", "dBias"], tolerance: product) {
            .unaryBackwardBiasGradient(function, x: try $0["x"], y: try $0["y"], dy: try $0["dy"], dx: try $0["dx"],
                                       dBias: try $0["dBias"], outer: outer, channels: channels, inner: inner)
        }
    }

    /// The unary functions in double precision, for host-side references.
    public static func referenceUnary(_ function: UnaryFunction, _ x: Double) -> Double {
        switch function {
        case .relu: return max(x, 0)
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        case .silu: return x / (1 + Foundation.exp(-x))
        }
    }

    public static func binary(_ function: BinaryFunction, count: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("binary.\(function.rawValue) \(count)", buffers: ["a": random.floats(count),
                          "b": random.floats(count), "y": .nan(count)], outputs: ["y"], tolerance: .exact) {
            .binary(function, a: try $0["a"], b: try $0["b"], y: try $0["y"], count: count)
        }
    }

    public static func scale(count: Int, alpha: Float, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("scale \(count) α=\(alpha)", buffers: ["x": random.floats(count), "y": .nan(count)],
                          outputs: ["y"], tolerance: .exact) {
            .scale(x: try $0["x"], y: try $0["y"], alpha: alpha, count: count)
        }
    }

    /// `sum` or `sumOfSquares` of values in [-1, 1] (tolerance relative to √count, as pairwise orders differ).
    public static func sum(count: Int, squares: Bool, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let tolerance = Tolerance(absolute: 1e-6 * Float(count).squareRoot() * 4, relative: 1e-5)
        return KernelCall("\(squares ? "sumOfSquares" : "sum") \(count)", buffers: ["x": random.floats(count),
                          "y": .nan(1)], outputs: ["y"], tolerance: tolerance) {
            squares ? .sumOfSquares(x: try $0["x"], y: try $0["y"], count: count)
                : .sum(x: try $0["x"], y: try $0["y"], count: count)
        }
    }

    /// Dropout: both the mask and the output must match exactly, as the mask is specified bit for bit.
    public static func dropout(count: Int, probability: Float, seed: UInt32, firstIndex: Int = 0) -> KernelCall {
        var random = TestRandom(seed: UInt64(seed))
        return KernelCall("dropout \(count) p=\(probability) seed=\(seed) from \(firstIndex)",
                          buffers: ["x": random.floats(count), "y": .nan(count), "mask": .nan(count)],
                          outputs: ["y", "mask"], tolerance: .exact) {
            .dropout(x: try $0["x"], y: try $0["y"], mask: try $0["mask"], probability: probability, seed: seed,
                     count: count, firstIndex: firstIndex)
        }
    }

    public static func sgdUpdate(count: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let hyper = SGDHyperparameters(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        return KernelCall("sgdUpdate \(count)", buffers: ["param": random.floats(count), "grad": random.floats(count),
                          "velocity": random.floats(count)], outputs: ["param", "velocity"]) {
            .sgdUpdate(param: try $0["param"], grad: try $0["grad"], velocity: try $0["velocity"], count: count,
                       hyper: hyper)
        }
    }

    public static func rmspropUpdate(count: Int, momentum: Float, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let hyper = RMSpropHyperparameters(learningRate: 0.01, alpha: 0.9, epsilon: 1e-6, momentum: momentum,
                                           weightDecay: 0.01)
        return KernelCall("rmspropUpdate \(count) momentum \(momentum)", buffers: ["param": random.floats(count),
                          "grad": random.floats(count), "square": random.floats(count, in: 0...0.1),
                          "buffer": random.floats(count, in: -0.1...0.1)], outputs: ["param", "square", "buffer"]) {
            .rmspropUpdate(param: try $0["param"], grad: try $0["grad"], square: try $0["square"],
                           buffer: try $0["buffer"], count: count, hyper: hyper)
        }
    }

    public static func adamUpdate(count: Int, step: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let hyper = AdamHyperparameters(learningRate: 0.01, weightDecay: 0.01, step: step)
        return KernelCall("adamUpdate \(count) t=\(step)", buffers: ["param": random.floats(count),
                          "grad": random.floats(count), "m": random.floats(count, in: -0.1...0.1),
                          "v": random.floats(count, in: 0...0.1)], outputs: ["param", "m", "v"]) {
            .adamUpdate(param: try $0["param"], grad: try $0["grad"], m: try $0["m"], v: try $0["v"], count: count,
                        hyper: hyper)
        }
    }
}
