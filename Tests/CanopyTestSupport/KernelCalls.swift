import CanopyCore
import Foundation

/// Ready-made ``KernelCall``s for every ``Kernel`` case, with reproducible random inputs.
///
/// Pure outputs start as NaN, so an element a kernel fails to write shows up in any comparison. Each builder
/// takes the sizes and a seed; ``standard(seed:)`` lists calls covering every kernel at awkward sizes
/// (1, 7, 33, 129, non-square, strided and padded convolutions, masked rows, strided block copies), ready for a
/// parity test:
///
/// ```swift
/// compareAllKernels(on: OpenCLBackend(), and: CPUBackend())   // every call, XCTest failures on mismatch
/// ```
public enum KernelCalls {
    /// Tolerance for sums of up to a few hundred products of values in [-1, 1].
    public static let product = Tolerance(absolute: 2e-4, relative: 1e-4)

    /// Calls for every kernel at awkward sizes, about 110 in all.
    public static func standard(seed: UInt64 = 1) -> [KernelCall] {
        var calls: [KernelCall] = [fill(count: 7), copy(count: 129, seed: seed)]
        for (m, n, k) in [(1, 1, 1), (7, 33, 129), (129, 7, 33)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                calls.append(matmul(m: m, n: n, k: k, transposeA: ta, transposeB: tb, seed: seed))
            }
        }
        for (ta, tb) in [(false, false), (true, true)] {
            calls.append(matmul(m: 33, n: 7, k: 5, transposeA: ta, transposeB: tb, alpha: 0.5, beta: 2, seed: seed))
        }
        calls += matmulBiasCalls(seed: seed) + conv2dBiasCalls(seed: seed)
        for (outer, channels, inner) in [(7, 33, 1), (3, 5, 49), (1, 1, 1)] {
            calls.append(biasAdd(outer: outer, channels: channels, inner: inner, seed: seed))
            calls.append(biasGradient(outer: outer, channels: channels, inner: inner, seed: seed))
        }
        for geometry in convGeometries { calls += convolutionPasses(geometry, seed: seed, seedStep: 0) }
        for geometry in poolGeometries {
            calls += [maxPool(geometry, seed: seed), maxPoolBackward(geometry, seed: seed)]
        }
        for (rows, cols, scale) in [(1, 1, Float(1)), (7, 33, 3), (7, 129, 30)] {
            for log in [false, true] {
                calls.append(softmax(rows: rows, cols: cols, log: log, scale: scale, seed: seed))
                calls.append(softmaxBackward(rows: rows, cols: cols, log: log, seed: seed))
            }
        }
        for (rows, classes) in [(1, 1), (7, 10), (33, 129)] {
            calls.append(softmaxCrossEntropy(rows: rows, classes: classes, seed: seed))
            calls.append(softmaxCrossEntropyBackward(rows: rows, classes: classes, seed: seed))
        }
        for (rows, cols) in [(1, 1), (7, 33)] {
            for loss in RowLossUnderTest.all {
                calls.append(rowLoss(loss, rows: rows, cols: cols, seed: seed))
                calls.append(rowLossBackward(loss, rows: rows, cols: cols, seed: seed))
            }
        }
        for rows in [1, 7, 129] {
            calls += [maskedMean(rows: rows, seed: seed), maskedMeanBackward(rows: rows, seed: seed)]
        }
        for function in UnaryFunction.allCases {
            calls += [unary(function, count: 129, seed: seed), unaryBackward(function, count: 129, seed: seed)]
        }
        for (index, function) in UnaryFunction.allCases.enumerated() {
            // A dense layer's [rows, channels] and a convolution's [N, C, H·W], the shapes alternating.
            let (outer, channels, inner) = [(7, 33, 1), (3, 5, 49), (129, 7, 1), (1, 1, 1), (2, 3, 33)][index % 5]
            calls.append(unaryBackwardBiasGradient(function, outer: outer, channels: channels, inner: inner, seed: seed))
        }
        for function in BinaryFunction.allCases { calls.append(binary(function, count: 129, seed: seed)) }
        calls.append(scale(count: 33, alpha: -1.5, seed: seed))
        for count in [1, 129, 100_003] {
            calls += [sum(count: count, squares: false, seed: seed), sum(count: count, squares: true, seed: seed)]
        }
        calls += [dropout(count: 1000, probability: 0.25, seed: 42), dropout(count: 7, probability: 0, seed: 3)]
        calls += [sgdUpdate(count: 129, seed: seed), adamUpdate(count: 129, step: 3, seed: seed),
                  rmspropUpdate(count: 129, momentum: 0, seed: seed), rmspropUpdate(count: 33, momentum: 0.9, seed: seed)]
        calls += standardMixtureCalls(seed: seed)
        calls += standardLayerCalls(seed: seed)
        calls += standardBatchNormCalls(seed: seed)
        calls += standardSequenceCalls(seed: seed)
        return calls
    }

    /// Convolution geometries of ``standard(seed:)``: padded, strided with unequal kernel sides, and 1×1×1.
    public static let convGeometries: [ConvGeometry] = [
        ConvGeometry(batch: 2, inChannels: 3, inHeight: 7, inWidth: 7, outChannels: 5, kernelHeight: 3,
                     kernelWidth: 3, padHeight: 1, padWidth: 1),
        ConvGeometry(batch: 3, inChannels: 2, inHeight: 9, inWidth: 8, outChannels: 4, kernelHeight: 3,
                     kernelWidth: 2, strideHeight: 2, strideWidth: 2, padHeight: 1, padWidth: 0),
        ConvGeometry(batch: 1, inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 1, kernelHeight: 1,
                     kernelWidth: 1),
        // Grouped (3 groups of 2 channels → 3 filters each), rectangular kernel, unequal strides and paddings.
        ConvGeometry(batch: 2, inChannels: 6, inHeight: 7, inWidth: 33, outChannels: 9, kernelHeight: 3,
                     kernelWidth: 5, strideHeight: 1, strideWidth: 2, padHeight: 1, padWidth: 2, groups: 3),
        // Depthwise (groups = channels), stride 2 down only, padding across only.
        ConvGeometry(batch: 3, inChannels: 7, inHeight: 7, inWidth: 7, outChannels: 7, kernelHeight: 3,
                     kernelWidth: 3, strideHeight: 2, strideWidth: 1, padHeight: 0, padWidth: 1, groups: 7),
        // Depthwise with a channel multiplier of 2 on a 1-pixel-high row (conv1d's shape), length 129.
        ConvGeometry(batch: 1, inChannels: 2, inHeight: 1, inWidth: 129, outChannels: 4, kernelHeight: 1,
                     kernelWidth: 7, strideHeight: 1, strideWidth: 3, padHeight: 0, padWidth: 3, groups: 2),
        // Grouped pointwise (1×1, stride 1, no padding: OpenCL's path without im2col).
        ConvGeometry(batch: 3, inChannels: 4, inHeight: 5, inWidth: 1, outChannels: 6, kernelHeight: 1,
                     kernelWidth: 1, groups: 2),
    ]

    /// Pooling geometries of ``standard(seed:)``: non-overlapping, overlapping with a ragged edge, and 1×1.
    public static let poolGeometries: [PoolGeometry] = [
        PoolGeometry(batch: 2, channels: 3, inHeight: 8, inWidth: 6, kernel: 2, stride: 2),
        PoolGeometry(batch: 1, channels: 2, inHeight: 9, inWidth: 8, kernel: 3, stride: 2),
        PoolGeometry(batch: 1, channels: 1, inHeight: 1, inWidth: 1, kernel: 1, stride: 1),
    ]

    public static func fill(count: Int, value: Float = 2.5) -> KernelCall {
        KernelCall("fill \(count)", buffers: ["y": .nan(count)], outputs: ["y"], tolerance: .exact) {
            .fill(y: try $0["y"], value: value, count: count)
        }
    }

    public static func copy(count: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("copy \(count)", buffers: ["x": random.floats(count), "y": .nan(count)], outputs: ["y"],
                          tolerance: .exact) { .copy(x: try $0["x"], y: try $0["y"], count: count) }
    }

    /// A matmul with inputs in [-1, 1]; C starts as NaN when `beta == 0` (it must be ignored), random otherwise.
    public static func matmul(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                              alpha: Float = 1, beta: Float = 0, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let shape = MatmulShape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                alpha: alpha, beta: beta)
        let c: [Float] = beta == 0 ? .nan(m * n) : random.floats(m * n)
        let name = "matmul \(m)×\(n)×\(k)\(transposeA ? " Aᵀ" : "")\(transposeB ? " Bᵀ" : "") α=\(alpha) β=\(beta)"
        return KernelCall(name, buffers: ["a": random.floats(m * k), "b": random.floats(k * n), "c": c],
                          outputs: ["c"], tolerance: product) {
            .matmul(a: try $0["a"], b: try $0["b"], c: try $0["c"], shape: shape)
        }
    }

    /// A product with its bias and activation as one call (a fused dense layer); C starts as NaN.
    public static func matmulBias(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                                  activation: UnaryFunction?, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let shape = MatmulShape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
        let name = "matmulBias \(m)×\(n)×\(k)\(transposeA ? " Aᵀ" : "")\(transposeB ? " Bᵀ" : "") "
            + (activation?.rawValue ?? "identity")
        return KernelCall(name, buffers: ["a": random.floats(m * k), "b": random.floats(k * n), "bias": random.floats(n),
                                          "c": .nan(m * n)], outputs: ["c"], tolerance: product) {
            .matmulBias(a: try $0["a"], b: try $0["b"], bias: try $0["bias"], c: try $0["c"], shape: shape,
                        activation: activation)
        }
    }

    /// The fused products of ``standard(seed:)``: every activation and transpose, sizes 1, 7, 33, 129 and others
    /// that are not multiples of a tile.
    static func matmulBiasCalls(seed: UInt64) -> [KernelCall] {
        [matmulBias(m: 1, n: 1, k: 1, activation: .relu, seed: seed),
         matmulBias(m: 7, n: 33, k: 129, activation: nil, seed: seed),
         matmulBias(m: 7, n: 33, k: 129, transposeB: true, activation: .relu, seed: seed),
         matmulBias(m: 129, n: 7, k: 33, transposeA: true, activation: .sigmoid, seed: seed),
         matmulBias(m: 33, n: 129, k: 7, transposeA: true, transposeB: true, activation: .tanh, seed: seed),
         matmulBias(m: 33, n: 17, k: 7, transposeB: true, activation: .gelu, seed: seed),
         matmulBias(m: 129, n: 20, k: 33, transposeB: true, activation: .silu, seed: seed)]
    }

    /// A convolution's three calls: forward, backward input and backward weight, with seeds `seed`,
    /// `seed + seedStep` and `seed + 2·seedStep`.
    public static func convolutionPasses(_ g: ConvGeometry, seed: UInt64, seedStep: UInt64 = 1) -> [KernelCall] {
        [conv2d(g, seed: seed), conv2dBackwardInput(g, seed: seed + seedStep),
         conv2dBackwardWeight(g, seed: seed + 2 * seedStep)]
    }

    public static func biasAdd(outer: Int, channels: Int, inner: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let count = outer * channels * inner
        return KernelCall("biasAdd \(outer)×\(channels)×\(inner)",
                          buffers: ["x": random.floats(count), "bias": random.floats(channels), "y": .nan(count)],
                          outputs: ["y"]) {
            .biasAdd(x: try $0["x"], bias: try $0["bias"], y: try $0["y"], outer: outer, channels: channels, inner: inner)
        }
    }

    public static func biasGradient(outer: Int, channels: Int, inner: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("biasGradient \(outer)×\(channels)×\(inner)",
                          buffers: ["dy": random.floats(outer * channels * inner), "dBias": .nan(channels)],
                          outputs: ["dBias"]) {
            .biasGradient(dy: try $0["dy"], dBias: try $0["dBias"], outer: outer, channels: channels, inner: inner)
        }
    }

    public static func conv2d(_ g: ConvGeometry, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("conv2d \(describe(g))", buffers: ["input": random.floats(g.inputCount),
                          "weight": random.floats(g.weightCount), "output": .nan(g.outputCount)],
                          outputs: ["output"], tolerance: product) {
            .conv2d(input: try $0["input"], weight: try $0["weight"], output: try $0["output"], geometry: g)
        }
    }

    /// A convolution with its bias and activation as one call (a fused convolution layer); the output starts as NaN.
    public static func conv2dBias(_ g: ConvGeometry, activation: UnaryFunction?, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("conv2dBias \(describe(g)) \(activation?.rawValue ?? "identity")",
                          buffers: ["input": random.floats(g.inputCount), "weight": random.floats(g.weightCount),
                                    "bias": random.floats(g.outChannels), "output": .nan(g.outputCount)],
                          outputs: ["output"], tolerance: product) {
            .conv2dBias(input: try $0["input"], weight: try $0["weight"], bias: try $0["bias"], output: try $0["output"],
                        geometry: g, activation: activation)
        }
    }

    /// The fused convolutions of ``standard(seed:)``: every standard geometry (plain, strided, grouped by image and by
    /// group, depthwise, pointwise), the activations in turn.
    static func conv2dBiasCalls(seed: UInt64) -> [KernelCall] {
        let activations: [UnaryFunction?] = [.relu, nil, .sigmoid, .tanh, .gelu, .silu, .relu]
        return convGeometries.enumerated().map { index, geometry in
            conv2dBias(geometry, activation: activations[index % activations.count], seed: seed)
        }
    }

    public static func conv2dBackwardInput(_ g: ConvGeometry, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("conv2dBackwardInput \(describe(g))", buffers: ["dOutput": random.floats(g.outputCount),
                          "weight": random.floats(g.weightCount), "dInput": .nan(g.inputCount)],
                          outputs: ["dInput"], tolerance: product) {
            .conv2dBackwardInput(dOutput: try $0["dOutput"], weight: try $0["weight"], dInput: try $0["dInput"],
                                 geometry: g)
        }
    }

    public static func conv2dBackwardWeight(_ g: ConvGeometry, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("conv2dBackwardWeight \(describe(g))", buffers: ["input": random.floats(g.inputCount),
                          "dOutput": random.floats(g.outputCount), "dWeight": .nan(g.weightCount)],
                          outputs: ["dWeight"], tolerance: product) {
            .conv2dBackwardWeight(input: try $0["input"], dOutput: try $0["dOutput"], dWeight: try $0["dWeight"],
                                  geometry: g)
        }
    }

    /// Max pooling of distinct values (no ties, so every backend must pick the same index).
    public static func maxPool(_ g: PoolGeometry, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("maxPool \(describe(g))", buffers: ["input": random.distinctFloats(g.inputCount),
                          "output": .nan(g.outputCount), "indices": .nan(g.outputCount)],
                          outputs: ["output", "indices"], tolerance: .exact) {
            .maxPool(input: try $0["input"], output: try $0["output"], indices: try $0["indices"], geometry: g)
        }
    }

    /// Max-pool backward with a random valid index inside each window; dInput starts as NaN.
    public static func maxPoolBackward(_ g: PoolGeometry, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        var indices: [Float] = []
        for _ in 0..<g.batch * g.channels {
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    let h = oh * g.stride + random.int(below: g.kernel), w = ow * g.stride + random.int(below: g.kernel)
                    indices.append(Float(h * g.inWidth + w))
                }
            }
        }
        return KernelCall("maxPoolBackward \(describe(g))", buffers: ["dOutput": random.floats(g.outputCount),
                          "indices": indices, "dInput": .nan(g.inputCount)], outputs: ["dInput"]) {
            .maxPoolBackward(dOutput: try $0["dOutput"], indices: try $0["indices"], dInput: try $0["dInput"],
                             geometry: g)
        }
    }

    /// Row softmax (or log-softmax) of logits uniform in [-scale, scale].
    public static func softmax(rows: Int, cols: Int, log: Bool, scale: Float = 3, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let count = rows * cols
        return KernelCall("\(log ? "logSoftmax" : "softmax") \(rows)×\(cols) ±\(scale)",
                          buffers: ["x": random.floats(count, in: -scale...scale), "y": .nan(count)], outputs: ["y"]) {
            log ? .logSoftmax(x: try $0["x"], y: try $0["y"], rows: rows, cols: cols)
                : .softmax(x: try $0["x"], y: try $0["y"], rows: rows, cols: cols)
        }
    }

    /// Backward of softmax or log-softmax, with y a true (log-)softmax output computed on the host.
    public static func softmaxBackward(rows: Int, cols: Int, log: Bool, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let x = random.floats(rows * cols, in: -3...3)
        var y: [Float] = []
        for row in 0..<rows {
            let slice = x[row * cols..<(row + 1) * cols].map(Double.init)
            let m = slice.max()!, total = slice.reduce(0) { $0 + Foundation.exp($1 - m) }
            y += slice.map { log ? Float($0 - m - Foundation.log(total)) : Float(Foundation.exp($0 - m) / total) }
        }
        let count = rows * cols
        return KernelCall("\(log ? "logSoftmaxBackward" : "softmaxBackward") \(rows)×\(cols)",
                          buffers: ["y": y, "dy": random.floats(count), "dx": .nan(count)], outputs: ["dx"]) {
            log ? .logSoftmaxBackward(y: try $0["y"], dy: try $0["dy"], dx: try $0["dx"], rows: rows, cols: cols)
                : .softmaxBackward(y: try $0["y"], dy: try $0["dy"], dx: try $0["dx"], rows: rows, cols: cols)
        }
    }

    /// Rows 1 and 4 (when present) are unlabelled, with a NaN label that must be ignored.
    static func labelsAndMask(rows: Int, classes: Int, random: inout TestRandom) -> ([Float], [Float]) {
        var labels = random.labels(rows, classes: classes)
        let unlabelled: Set<Int> = rows > 1 ? [1, 4].filter { $0 < rows }.reduce(into: []) { $0.insert($1) } : []
        for row in unlabelled { labels[row] = .nan }
        return (labels, TestRandom.mask(rows, unlabelled: unlabelled))
    }
}

extension KernelCalls {
    static func describe(_ g: ConvGeometry) -> String {
        "N\(g.batch) C\(g.inChannels) \(g.inHeight)×\(g.inWidth) F\(g.outChannels) k\(g.kernelHeight)×\(g.kernelWidth) "
            + "s\(g.strideHeight),\(g.strideWidth) p\(g.padHeight),\(g.padWidth)" + (g.groups == 1 ? "" : " g\(g.groups)")
    }

    static func describe(_ g: PoolGeometry) -> String {
        "N\(g.batch) C\(g.channels) \(g.inHeight)×\(g.inWidth) k\(g.kernel) s\(g.stride)"
    }
}
