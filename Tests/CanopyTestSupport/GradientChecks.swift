import CanopyCore
import XCTest

// Finite-difference checks of every differentiable kernel pair, on any backend. Each function builds small
// random inputs (away from kinks: relu inputs have |x| ≥ 0.1, max-pool inputs differ pairwise by ≥ 0.05, both
// more than twice the step 1e-2), runs forward and backward kernels on the backend and calls ``checkGradient``.

/// Runs every gradient check below on `backend`, prints one line per check with its largest differences, and
/// returns the reports. Failures are XCTest failures at `file`/`line`.
@discardableResult
public func checkAllKernelGradients(on backend: Backend, file: StaticString = #filePath,
                                    line: UInt = #line) -> [GradientReport] {
    var reports: [GradientReport] = []
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        reports.append(checkMatmulGradient(on: backend, m: 3, n: 4, k: 5, transposeA: ta, transposeB: tb,
                                           file: file, line: line))
    }
    reports.append(checkMatmulGradient(on: backend, m: 2, n: 3, k: 4, transposeA: true, alpha: 0.5, beta: 1.5,
                                       file: file, line: line))
    reports.append(checkBiasGradient(on: backend, outer: 2, channels: 3, inner: 4, file: file, line: line))
    reports.append(checkBiasGradient(on: backend, outer: 5, channels: 3, inner: 1, file: file, line: line))
    for geometry in gradientConvGeometries {
        reports.append(checkConv2dGradient(on: backend, geometry: geometry, file: file, line: line))
    }
    reports.append(checkMaxPoolGradient(on: backend, geometry: PoolGeometry(batch: 2, channels: 2, inHeight: 4,
                                        inWidth: 4, kernel: 2, stride: 2), file: file, line: line))
    reports.append(checkMaxPoolGradient(on: backend, geometry: PoolGeometry(batch: 1, channels: 2, inHeight: 5,
                                        inWidth: 6, kernel: 3, stride: 2), file: file, line: line))
    reports.append(checkSoftmaxGradient(on: backend, rows: 3, cols: 5, log: false, file: file, line: line))
    reports.append(checkSoftmaxGradient(on: backend, rows: 3, cols: 5, log: true, file: file, line: line))
    reports.append(checkSoftmaxCrossEntropyGradient(on: backend, rows: 5, classes: 4, file: file, line: line))
    for loss in RowLossUnderTest.all {
        reports.append(checkRowLossGradient(on: backend, loss, rows: 5, cols: 3, file: file, line: line))
    }
    reports.append(checkMaskedMeanGradient(on: backend, rows: 6, file: file, line: line))
    for function in UnaryFunction.allCases {
        reports.append(checkUnaryGradient(function, on: backend, count: 24, file: file, line: line))
    }
    for function in BinaryFunction.allCases {
        reports.append(checkBinaryGradient(function, on: backend, count: 12, file: file, line: line))
    }
    reports.append(checkScaleGradient(on: backend, count: 12, alpha: -0.75, file: file, line: line))
    reports.append(checkDropoutGradient(on: backend, count: 40, probability: 0.3, file: file, line: line))
    reports += checkMixtureKernelGradients(on: backend, file: file, line: line)
    reports += checkLayerKernelGradients(on: backend, file: file, line: line)
    reports += checkBatchNormKernelGradients(on: backend, file: file, line: line)
    reports += checkSequenceKernelGradients(on: backend, file: file, line: line)
    for report in reports {
        print("\(report.passed ? "ok  " : "FAIL") \(backend.name) \(report)")
    }
    return reports
}

/// Convolutions of ``checkAllKernelGradients(on:file:line:)``: padded stride 1, stride 2 with unequal sides, grouped
/// and rectangular, and depthwise on one row.
public let gradientConvGeometries: [ConvGeometry] = [
    ConvGeometry(batch: 2, inChannels: 2, inHeight: 5, inWidth: 5, outChannels: 3, kernelHeight: 3, kernelWidth: 3,
                 padHeight: 1, padWidth: 1),
    ConvGeometry(batch: 1, inChannels: 2, inHeight: 6, inWidth: 5, outChannels: 2, kernelHeight: 3, kernelWidth: 2,
                 strideHeight: 2, strideWidth: 2, padHeight: 1, padWidth: 0),
    // two groups, a 3×2 kernel, stride 1 down and 2 across, padding 1 and 1
    ConvGeometry(batch: 2, inChannels: 4, inHeight: 5, inWidth: 6, outChannels: 6, kernelHeight: 3, kernelWidth: 2,
                 strideHeight: 1, strideWidth: 2, padHeight: 1, padWidth: 1, groups: 2),
    // depthwise on one row (conv1d's shape): a 1×3 kernel, stride 2 across, padding 1 across
    ConvGeometry(batch: 2, inChannels: 3, inHeight: 1, inWidth: 7, outChannels: 3, kernelHeight: 1, kernelWidth: 3,
                 strideHeight: 1, strideWidth: 2, padHeight: 0, padWidth: 1, groups: 3),
]

/// `C = α·op(A)·op(B) + β·C`: dA and dB by matmuls with the transposes worked out below, dC = β·dy by scale.
@discardableResult
public func checkMatmulGradient(on backend: Backend, m: Int, n: Int, k: Int, transposeA: Bool = false,
                                transposeB: Bool = false, alpha: Float = 1, beta: Float = 0, seed: UInt64 = 1,
                                file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let (ta, tb) = (transposeA, transposeB)
    let shape = MatmulShape(m: m, n: n, k: k, transposeA: ta, transposeB: tb, alpha: alpha, beta: beta)
    let name = "matmul \(m)×\(n)×\(k)\(ta ? " Aᵀ" : "")\(tb ? " Bᵀ" : "") α=\(alpha) β=\(beta)"
    return checkGradient(name, on: backend, inputs: ["a": random.floats(m * k), "b": random.floats(k * n),
                         "c": random.floats(m * n)], wrt: beta == 0 ? ["a", "b"] : ["a", "b", "c"],
                         forward: { ctx in
        try ctx.run(.matmul(a: try ctx["a"], b: try ctx["b"], c: try ctx["c"], shape: shape))
        return (try ctx["c"], m * n)
    }, backward: { ctx, dy in
        let (a, b) = (try ctx["a"], try ctx["b"])
        let da = try ctx.buffer("da", count: m * k), db = try ctx.buffer("db", count: k * n)
        let dc = try ctx.buffer("dc", count: m * n)
        // d op(A) = α·dC·op(B)ᵀ (m×k); stored Aᵀ gets its transpose α·op(B)·dCᵀ (k×m).
        if !ta {
            try ctx.run(.matmul(a: dy, b: b, c: da, shape: MatmulShape(m: m, n: k, k: n, transposeB: !tb, alpha: alpha)))
        } else {
            try ctx.run(.matmul(a: b, b: dy, c: da, shape: MatmulShape(m: k, n: m, k: n, transposeA: tb,
                                                                         transposeB: true, alpha: alpha)))
        }
        // d op(B) = α·op(A)ᵀ·dC (k×n); stored Bᵀ gets α·dCᵀ·op(A) (n×k).
        if !tb {
            try ctx.run(.matmul(a: a, b: dy, c: db, shape: MatmulShape(m: k, n: n, k: m, transposeA: !ta, alpha: alpha)))
        } else {
            try ctx.run(.matmul(a: dy, b: a, c: db, shape: MatmulShape(m: n, n: k, k: m, transposeA: true,
                                                                         transposeB: ta, alpha: alpha)))
        }
        try ctx.run(.scale(x: dy, y: dc, alpha: beta, count: m * n))
        return ["a": da, "b": db, "c": dc]
    }, file: file, line: line)
}

/// `y = x + bias`: dBias by biasGradient, dx = dy by copy.
@discardableResult
public func checkBiasGradient(on backend: Backend, outer: Int, channels: Int, inner: Int, seed: UInt64 = 2,
                              file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let count = outer * channels * inner
    return checkGradient("biasAdd \(outer)×\(channels)×\(inner)", on: backend,
                         inputs: ["x": random.floats(count), "bias": random.floats(channels)], wrt: ["x", "bias"],
                         forward: { ctx in
        let y = try ctx.buffer("y", count: count)
        try ctx.run(.biasAdd(x: try ctx["x"], bias: try ctx["bias"], y: y, outer: outer, channels: channels, inner: inner))
        return (y, count)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: count), dBias = try ctx.buffer("dBias", count: channels)
        try ctx.run(.copy(x: dy, y: dx, count: count))
        try ctx.run(.biasGradient(dy: dy, dBias: dBias, outer: outer, channels: channels, inner: inner))
        return ["x": dx, "bias": dBias]
    }, file: file, line: line)
}

/// conv2d with respect to input (conv2dBackwardInput) and weight (conv2dBackwardWeight).
@discardableResult
public func checkConv2dGradient(on backend: Backend, geometry g: ConvGeometry, seed: UInt64 = 3,
                                file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    return checkGradient("conv2d \(KernelCalls.describe(g))", on: backend,
                         inputs: ["input": random.floats(g.inputCount), "weight": random.floats(g.weightCount)],
                         wrt: ["input", "weight"], forward: { ctx in
        let y = try ctx.buffer("y", count: g.outputCount)
        try ctx.run(.conv2d(input: try ctx["input"], weight: try ctx["weight"], output: y, geometry: g))
        return (y, g.outputCount)
    }, backward: { ctx, dy in
        let dInput = try ctx.buffer("dInput", count: g.inputCount)
        let dWeight = try ctx.buffer("dWeight", count: g.weightCount)
        try ctx.run(.conv2dBackwardInput(dOutput: dy, weight: try ctx["weight"], dInput: dInput, geometry: g))
        try ctx.run(.conv2dBackwardWeight(input: try ctx["input"], dOutput: dy, dWeight: dWeight, geometry: g))
        return ["input": dInput, "weight": dWeight]
    }, file: file, line: line)
}

/// maxPool with respect to its input, through the recorded indices; inputs distinct by ≥ 0.05.
@discardableResult
public func checkMaxPoolGradient(on backend: Backend, geometry g: PoolGeometry, seed: UInt64 = 4,
                                 file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    return checkGradient("maxPool \(KernelCalls.describe(g))", on: backend,
                         inputs: ["input": random.distinctFloats(g.inputCount)], wrt: ["input"], forward: { ctx in
        let y = try ctx.buffer("y", count: g.outputCount), indices = try ctx.buffer("indices", count: g.outputCount)
        try ctx.run(.maxPool(input: try ctx["input"], output: y, indices: indices, geometry: g))
        return (y, g.outputCount)
    }, backward: { ctx, dy in
        let dInput = try ctx.buffer("dInput", count: g.inputCount)
        try ctx.run(.maxPoolBackward(dOutput: dy, indices: try ctx["indices"], dInput: dInput, geometry: g))
        return ["input": dInput]
    }, file: file, line: line)
}

/// softmax or logSoftmax with respect to x, through softmaxBackward / logSoftmaxBackward.
@discardableResult
public func checkSoftmaxGradient(on backend: Backend, rows: Int, cols: Int, log: Bool, seed: UInt64 = 5,
                                 file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let count = rows * cols
    return checkGradient("\(log ? "logSoftmax" : "softmax") \(rows)×\(cols)", on: backend,
                         inputs: ["x": random.floats(count, in: -2...2)], wrt: ["x"], forward: { ctx in
        let y = try ctx.buffer("y", count: count)
        try ctx.run(log ? .logSoftmax(x: try ctx["x"], y: y, rows: rows, cols: cols)
                        : .softmax(x: try ctx["x"], y: y, rows: rows, cols: cols))
        return (y, count)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: count), y = try ctx["y"]
        try ctx.run(log ? .logSoftmaxBackward(y: y, dy: dy, dx: dx, rows: rows, cols: cols)
                        : .softmaxBackward(y: y, dy: dy, dx: dx, rows: rows, cols: cols))
        return ["x": dx]
    }, file: file, line: line)
}
