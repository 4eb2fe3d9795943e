import CanopyCore

// Gradient checks of batch normalization (training mode), see GradientChecks.swift.

/// Every batch-norm check, for ``checkAllKernelGradients(on:file:line:)``: 1-D, 2-D, and a batch with padding rows.
func checkBatchNormKernelGradients(on backend: Backend, file: StaticString, line: UInt) -> [GradientReport] {
    [checkBatchNormGradient(on: backend, outer: 6, channels: 3, inner: 1, padding: 0, file: file, line: line),
     checkBatchNormGradient(on: backend, outer: 3, channels: 2, inner: 7, padding: 0, file: file, line: line),
     checkBatchNormGradient(on: backend, outer: 5, channels: 2, inner: 3, padding: 2, file: file, line: line)]
}

/// Batch normalization followed by a bias add (the `batchnorm` layer in training) with respect to x, gamma and
/// beta, through the kernels its VJP emits: batchNormBackward for x, the channel sums of dy ⊙ x̂ and of dy for
/// gamma and beta. Padding rows (mask 0) are left out of the statistics but still normalized, so the check also
/// proves that their x reaches only their own output.
@discardableResult
public func checkBatchNormGradient(on backend: Backend, outer: Int, channels: Int, inner: Int, padding: Int,
                                   seed: UInt64 = 18, file: StaticString = #filePath,
                                   line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let count = outer * channels * inner
    return checkGradient("batchNorm \(outer)×\(channels)×\(inner) padding \(padding)", on: backend,
                         inputs: ["x": random.floats(count).map { 2 * $0 + 1 },
                                  "gamma": random.floats(channels).map { $0 + 1.5 }, "beta": random.floats(channels),
                                  "rowMask": KernelCalls.rowMask(outer: outer, padding: padding)],
                         wrt: ["x", "gamma", "beta"], forward: { ctx in
        let scaled = try ctx.buffer("scaled", count: count), y = try ctx.buffer("y", count: count)
        try ctx.run(.batchNorm(x: try ctx["x"], rowMask: try ctx["rowMask"], gamma: try ctx["gamma"], y: scaled,
                               normalized: try ctx.buffer("normalized", count: count),
                               mean: try ctx.buffer("mean", count: channels),
                               variance: try ctx.buffer("variance", count: channels),
                               rstd: try ctx.buffer("rstd", count: channels), outer: outer, channels: channels,
                               inner: inner, eps: 1e-5))
        try ctx.run(.biasAdd(x: scaled, bias: try ctx["beta"], y: y, outer: outer, channels: channels, inner: inner))
        return (y, count)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: count), product = try ctx.buffer("product", count: count)
        let dGamma = try ctx.buffer("dGamma", count: channels), dBeta = try ctx.buffer("dBeta", count: channels)
        try ctx.run(.batchNormBackward(normalized: try ctx["normalized"], rstd: try ctx["rstd"], gamma: try ctx["gamma"],
                                       dy: dy, rowMask: try ctx["rowMask"], dx: dx, outer: outer, channels: channels,
                                       inner: inner))
        try ctx.run(.binary(.multiply, a: dy, b: try ctx["normalized"], y: product, count: count))
        try ctx.run(.biasGradient(dy: product, dBias: dGamma, outer: outer, channels: channels, inner: inner))
        try ctx.run(.biasGradient(dy: dy, dBias: dBeta, outer: outer, channels: channels, inner: inner))
        return ["x": dx, "gamma": dGamma, "beta": dBeta]
    }, file: file, line: line)
}
