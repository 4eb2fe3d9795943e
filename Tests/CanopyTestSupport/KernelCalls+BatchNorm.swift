import CanopyCore

// Standard calls of batch normalization's kernels: 1-D ([N, C], inner 1) and 2-D ([N, C, H·W]) views at awkward
// sizes, with and without padding rows in the row mask.

extension KernelCalls {
    /// [outer, channels, inner] views and how many trailing rows are padding.
    public static let batchNormSizes: [(outer: Int, channels: Int, inner: Int, padding: Int)] = [
        (1, 1, 1, 0), (7, 7, 1, 2), (33, 3, 1, 0), (2, 5, 129, 1), (3, 129, 7, 0), (129, 2, 33, 64),
    ]

    /// Calls of the batch-norm kernels for ``standard(seed:)``.
    static func standardBatchNormCalls(seed: UInt64) -> [KernelCall] {
        var calls: [KernelCall] = []
        for size in batchNormSizes {
            calls += [batchNorm(outer: size.outer, channels: size.channels, inner: size.inner, padding: size.padding,
                                seed: seed),
                      batchNormInference(outer: size.outer, channels: size.channels, inner: size.inner, seed: seed),
                      batchNormBackward(outer: size.outer, channels: size.channels, inner: size.inner,
                                        padding: size.padding, seed: seed)]
        }
        calls += [batchNormRunningUpdate(channels: 1, seed: seed), batchNormRunningUpdate(channels: 129, seed: seed)]
        return calls
    }

    /// A row mask of `outer` rows whose last `padding` are 0 (at least one row stays real).
    public static func rowMask(outer: Int, padding: Int) -> [Float] {
        (0..<outer).map { $0 < max(outer - padding, 1) ? 1 : 0 }
    }

    /// Training-mode batch norm of x in [-1, 1] shifted by 3 (a mean far from 0), with gamma in [-1, 1].
    public static func batchNorm(outer: Int, channels: Int, inner: Int, padding: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let count = outer * channels * inner
        let tolerance = Tolerance(absolute: 1e-5 * Float(outer * inner).squareRoot() * 4, relative: 1e-4)
        return KernelCall("batchNorm \(outer)×\(channels)×\(inner) padding \(padding)",
                          buffers: ["x": random.floats(count).map { $0 + 3 }, "rowMask": rowMask(outer: outer, padding: padding),
                                    "gamma": random.floats(channels), "y": .nan(count), "normalized": .nan(count),
                                    "mean": .nan(channels), "variance": .nan(channels), "rstd": .nan(channels)],
                          outputs: ["y", "normalized", "mean", "variance", "rstd"], tolerance: tolerance) {
            .batchNorm(x: try $0["x"], rowMask: try $0["rowMask"], gamma: try $0["gamma"], y: try $0["y"],
                       normalized: try $0["normalized"], mean: try $0["mean"], variance: try $0["variance"],
                       rstd: try $0["rstd"], outer: outer, channels: channels, inner: inner, eps: 1e-5)
        }
    }

    /// Inference-mode batch norm with positive running variances.
    public static func batchNormInference(outer: Int, channels: Int, inner: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let count = outer * channels * inner
        return KernelCall("batchNormInference \(outer)×\(channels)×\(inner)",
                          buffers: ["x": random.floats(count), "gamma": random.floats(channels),
                                    "runningMean": random.floats(channels),
                                    "runningVariance": random.floats(channels).map { $0 * $0 + 0.1 }, "y": .nan(count)],
                          outputs: ["y"]) {
            .batchNormInference(x: try $0["x"], gamma: try $0["gamma"], runningMean: try $0["runningMean"],
                                runningVariance: try $0["runningVariance"], y: try $0["y"], outer: outer,
                                channels: channels, inner: inner, eps: 1e-5)
        }
    }

    /// The running statistics' update, momentum 0.1.
    public static func batchNormRunningUpdate(channels: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("batchNormRunningUpdate \(channels)",
                          buffers: ["mean": random.floats(channels), "variance": random.floats(channels).map { $0 * $0 },
                                    "runningMean": random.floats(channels),
                                    "runningVariance": random.floats(channels).map { $0 * $0 }],
                          outputs: ["runningMean", "runningVariance"]) {
            .batchNormRunningUpdate(mean: try $0["mean"], variance: try $0["variance"], runningMean: try $0["runningMean"],
                                    runningVariance: try $0["runningVariance"], channels: channels, momentum: 0.1)
        }
    }

    /// The input gradient from random x̂, rstd and dy (the kernel's formula holds for any of them).
    public static func batchNormBackward(outer: Int, channels: Int, inner: Int, padding: Int,
                                         seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let count = outer * channels * inner
        let tolerance = Tolerance(absolute: 1e-5 * Float(outer * inner).squareRoot() * 4, relative: 1e-4)
        return KernelCall("batchNormBackward \(outer)×\(channels)×\(inner) padding \(padding)",
                          buffers: ["normalized": random.floats(count), "rstd": random.floats(channels).map { 1 + abs($0) },
                                    "gamma": random.floats(channels), "dy": random.floats(count),
                                    "rowMask": rowMask(outer: outer, padding: padding), "dx": .nan(count)],
                          outputs: ["dx"], tolerance: tolerance) {
            .batchNormBackward(normalized: try $0["normalized"], rstd: try $0["rstd"], gamma: try $0["gamma"],
                               dy: try $0["dy"], rowMask: try $0["rowMask"], dx: try $0["dx"], outer: outer,
                               channels: channels, inner: inner)
        }
    }
}
