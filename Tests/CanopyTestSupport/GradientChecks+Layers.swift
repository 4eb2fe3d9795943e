import CanopyCore

// Gradient checks of the kernels behind the activation and pooling layers of issue 7. See GradientChecks.swift.

/// Every check below, for ``checkAllKernelGradients(on:file:line:)``.
func checkLayerKernelGradients(on backend: Backend, file: StaticString, line: UInt) -> [GradientReport] {
    var reports: [GradientReport] = []
    for (function, parameter) in KernelCalls.parametricUnaryParameters {
        reports.append(checkParametricUnaryGradient(function, parameter: parameter, on: backend, count: 24,
                                                    file: file, line: line))
    }
    for geometry in [PoolGeometry(batch: 2, channels: 2, inHeight: 4, inWidth: 4, kernel: 2, stride: 2),
                     PoolGeometry(batch: 1, channels: 2, inHeight: 5, inWidth: 6, kernel: 3, stride: 2)] {
        reports.append(checkAvgPoolGradient(on: backend, geometry: geometry, file: file, line: line))
    }
    reports.append(checkRowMeanGradient(on: backend, rows: 6, cols: 9, file: file, line: line))
    for (rows, cols) in [(5, 7), (3, 33)] {
        reports.append(checkLayerNormGradient(on: backend, rows: rows, cols: cols, file: file, line: line))
    }
    return reports
}

/// `y = f(x; α)` through parametricUnaryBackward; inputs have |x| ≥ 0.1 (away from the kink at 0).
@discardableResult
public func checkParametricUnaryGradient(_ function: ParametricUnaryFunction, parameter: Float, on backend: Backend,
                                         count: Int, seed: UInt64 = 14, file: StaticString = #filePath,
                                         line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    return checkGradient("parametricUnary.\(function.rawValue) α=\(parameter) \(count)", on: backend,
                         inputs: ["x": random.floatsAwayFromZero(count)], wrt: ["x"], forward: { ctx in
        let y = try ctx.buffer("y", count: count)
        try ctx.run(.parametricUnary(function, parameter: parameter, x: try ctx["x"], y: y, count: count))
        return (y, count)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: count)
        try ctx.run(.parametricUnaryBackward(function, parameter: parameter, x: try ctx["x"], dy: dy, dx: dx,
                                             count: count))
        return ["x": dx]
    }, file: file, line: line)
}

/// avgPool with respect to its input (overlapping windows and an unreached edge with the 5×6, k3 s2 geometry).
@discardableResult
public func checkAvgPoolGradient(on backend: Backend, geometry g: PoolGeometry, seed: UInt64 = 15,
                                 file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    return checkGradient("avgPool \(KernelCalls.describe(g))", on: backend,
                         inputs: ["input": random.floats(g.inputCount)], wrt: ["input"], forward: { ctx in
        let y = try ctx.buffer("y", count: g.outputCount)
        try ctx.run(.avgPool(input: try ctx["input"], output: y, geometry: g))
        return (y, g.outputCount)
    }, backward: { ctx, dy in
        let dInput = try ctx.buffer("dInput", count: g.inputCount)
        try ctx.run(.avgPoolBackward(dOutput: dy, dInput: dInput, geometry: g))
        return ["input": dInput]
    }, file: file, line: line)
}

/// rowMean (global average pooling) with respect to x.
@discardableResult
public func checkRowMeanGradient(on backend: Backend, rows: Int, cols: Int, seed: UInt64 = 16,
                                 file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    return checkGradient("rowMean \(rows)×\(cols)", on: backend, inputs: ["x": random.floats(rows * cols)],
                         wrt: ["x"], forward: { ctx in
        let y = try ctx.buffer("y", count: rows)
        try ctx.run(.rowMean(x: try ctx["x"], y: y, rows: rows, cols: cols))
        return (y, rows)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: rows * cols)
        try ctx.run(.rowMeanBackward(dy: dy, dx: dx, rows: rows, cols: cols))
        return ["x": dx]
    }, file: file, line: line)
}

/// Layer normalization followed by a bias add (the `layernorm` layer) with respect to x, gamma and beta, through
/// the kernels its VJP emits: layerNormBackward for x, the column sums of dy ⊙ x̂ and of dy for gamma and beta.
@discardableResult
public func checkLayerNormGradient(on backend: Backend, rows: Int, cols: Int, seed: UInt64 = 17,
                                   file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let count = rows * cols
    return checkGradient("layerNorm \(rows)×\(cols)", on: backend,
                         inputs: ["x": random.floats(count).map { 2 * $0 + 1 }, "gamma": random.floats(cols).map { $0 + 1.5 },
                                  "beta": random.floats(cols)],
                         wrt: ["x", "gamma", "beta"], forward: { ctx in
        let scaled = try ctx.buffer("scaled", count: count), y = try ctx.buffer("y", count: count)
        try ctx.run(.layerNorm(x: try ctx["x"], gamma: try ctx["gamma"], y: scaled,
                               normalized: try ctx.buffer("normalized", count: count),
                               rstd: try ctx.buffer("rstd", count: rows), rows: rows, cols: cols, eps: 1e-5))
        try ctx.run(.biasAdd(x: scaled, bias: try ctx["beta"], y: y, outer: rows, channels: cols, inner: 1))
        return (y, count)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: count), product = try ctx.buffer("product", count: count)
        let dGamma = try ctx.buffer("dGamma", count: cols), dBeta = try ctx.buffer("dBeta", count: cols)
        try ctx.run(.layerNormBackward(normalized: try ctx["normalized"], rstd: try ctx["rstd"], gamma: try ctx["gamma"],
                                       dy: dy, dx: dx, rows: rows, cols: cols))
        try ctx.run(.binary(.multiply, a: dy, b: try ctx["normalized"], y: product, count: count))
        try ctx.run(.biasGradient(dy: product, dBias: dGamma, outer: rows, channels: cols, inner: 1))
        try ctx.run(.biasGradient(dy: dy, dBias: dBeta, outer: rows, channels: cols, inner: 1))
        return ["x": dx, "gamma": dGamma, "beta": dBeta]
    }, file: file, line: line)
}
