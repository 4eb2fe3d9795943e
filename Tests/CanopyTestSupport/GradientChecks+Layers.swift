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
