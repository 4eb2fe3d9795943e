import CanopyCore
import XCTest

// Finite-difference checks of the sequence kernels (issue 7: embeddings and attention), on any backend: each
// kernel pair alone, and one attention head composed from them (scores, causal mask, softmax, weighted values).

/// The sequence gradient checks of ``checkAllKernelGradients(on:file:line:)``.
func checkSequenceKernelGradients(on backend: Backend, file: StaticString, line: UInt) -> [GradientReport] {
    var reports: [GradientReport] = []
    reports.append(checkEmbeddingGradient(on: backend, tokens: 11, vocabulary: 5, dim: 3, padding: 0, file: file, line: line))
    reports.append(checkEmbeddingGradient(on: backend, tokens: 1, vocabulary: 1, dim: 1, padding: -1, file: file, line: line))
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        reports.append(checkBatchedMatmulGradient(on: backend, batch: 3, m: 2, n: 4, k: 5, transposeA: ta, transposeB: tb,
                                                  file: file, line: line))
    }
    reports.append(checkSwapAxesGradient(on: backend, shape: [2, 3, 4, 2], file: file, line: line))
    reports.append(checkSwapAxesGradient(on: backend, shape: [1, 5, 1, 3], file: file, line: line))
    reports.append(checkCausalMaskGradient(on: backend, batch: 2, rows: 4, cols: 5, file: file, line: line))
    for causal in [false, true] {
        reports.append(checkAttentionHeadGradient(on: backend, batch: 2, length: 5, width: 3, causal: causal,
                                                  file: file, line: line))
    }
    reports.append(checkAttentionHeadGradient(on: backend, batch: 3, length: 1, width: 1, causal: true,
                                              file: file, line: line))
    return reports
}

/// `y = weight[ids]` through embeddingBackward; the ids repeat, and include ids with no row and the padding id,
/// whose rows must get no gradient (their central difference is 0).
@discardableResult
public func checkEmbeddingGradient(on backend: Backend, tokens: Int, vocabulary: Int, dim: Int, padding: Int,
                                   seed: UInt64 = 31, file: StaticString = #filePath,
                                   line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let ids = KernelCalls.embeddingIDs(tokens: tokens, vocabulary: vocabulary, padding: padding, random: &random)
    return checkGradient("embedding \(tokens) of \(vocabulary)×\(dim) padding \(padding)", on: backend,
                         inputs: ["ids": ids, "weight": random.floats(vocabulary * dim)], wrt: ["weight"], forward: { ctx in
        let y = try ctx.buffer("y", count: tokens * dim)
        try ctx.run(.embedding(ids: try ctx["ids"], weight: try ctx["weight"], y: y, tokens: tokens,
                               vocabulary: vocabulary, dim: dim, padding: padding))
        return (y, tokens * dim)
    }, backward: { ctx, dy in
        let dWeight = try ctx.buffer("dWeight", count: vocabulary * dim)
        try ctx.run(.embeddingBackward(ids: try ctx["ids"], dy: dy, dWeight: dWeight, tokens: tokens,
                                       vocabulary: vocabulary, dim: dim, padding: padding))
        return ["weight": dWeight]
    }, file: file, line: line)
}

/// `C = op(A)·op(B)` per batch: dA and dB by batched matmuls with the transposes of the graph's rule.
@discardableResult
public func checkBatchedMatmulGradient(on backend: Backend, batch: Int, m: Int, n: Int, k: Int, transposeA: Bool,
                                       transposeB: Bool, seed: UInt64 = 32, file: StaticString = #filePath,
                                       line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    return checkGradient("batchedMatmul \(batch)×\(m)×\(n)×\(k)\(transposeA ? " Aᵀ" : "")\(transposeB ? " Bᵀ" : "")",
                         on: backend, inputs: ["a": random.floats(batch * m * k), "b": random.floats(batch * k * n)],
                         wrt: ["a", "b"], forward: { ctx in
        let c = try ctx.buffer("c", count: batch * m * n)
        try ctx.run(.batchedMatmul(a: try ctx["a"], b: try ctx["b"], c: c, batch: batch,
                                   shape: MatmulShape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)))
        return (c, batch * m * n)
    }, backward: { ctx, dC in
        let dA = try ctx.buffer("dA", count: batch * m * k), dB = try ctx.buffer("dB", count: batch * k * n)
        let a = try ctx["a"], b = try ctx["b"]
        // dA = dC·op(B)ᵀ (stored transposed when transposeA); dB = op(A)ᵀ·dC (likewise).
        if transposeA {
            try ctx.run(.batchedMatmul(a: b, b: dC, c: dA, batch: batch,
                                       shape: MatmulShape(m: k, n: m, k: n, transposeA: transposeB, transposeB: true)))
        } else {
            try ctx.run(.batchedMatmul(a: dC, b: b, c: dA, batch: batch,
                                       shape: MatmulShape(m: m, n: k, k: n, transposeA: false, transposeB: !transposeB)))
        }
        if transposeB {
            try ctx.run(.batchedMatmul(a: dC, b: a, c: dB, batch: batch,
                                       shape: MatmulShape(m: n, n: k, k: m, transposeA: true, transposeB: transposeA)))
        } else {
            try ctx.run(.batchedMatmul(a: a, b: dC, c: dB, batch: batch,
                                       shape: MatmulShape(m: k, n: n, k: m, transposeA: !transposeA, transposeB: false)))
        }
        return ["a": dA, "b": dB]
    }, file: file, line: line)
}

/// `[o, p, q, i] → [o, q, p, i]`; the gradient swaps back.
@discardableResult
public func checkSwapAxesGradient(on backend: Backend, shape s: [Int], seed: UInt64 = 33,
                                  file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let count = s.reduce(1, *)
    return checkGradient("swapAxes \(s)", on: backend, inputs: ["x": random.floats(count)], wrt: ["x"], forward: { ctx in
        let y = try ctx.buffer("y", count: count)
        try ctx.run(.swapAxes(x: try ctx["x"], y: y, outer: s[0], first: s[1], second: s[2], inner: s[3]))
        return (y, count)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: count)
        try ctx.run(.swapAxes(x: dy, y: dx, outer: s[0], first: s[2], second: s[1], inner: s[3]))
        return ["x": dx]
    }, file: file, line: line)
}

/// `y = j > i ? −5 : x`: the masked entries are constants, so their gradient is 0.
@discardableResult
public func checkCausalMaskGradient(on backend: Backend, batch: Int, rows: Int, cols: Int, seed: UInt64 = 34,
                                    file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let count = batch * rows * cols
    return checkGradient("causalMask \(batch)×\(rows)×\(cols)", on: backend, inputs: ["x": random.floats(count)],
                         wrt: ["x"], forward: { ctx in
        let y = try ctx.buffer("y", count: count)
        try ctx.run(.causalMask(x: try ctx["x"], y: y, batch: batch, rows: rows, cols: cols, fill: -5))
        return (y, count)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: count)
        try ctx.run(.causalMask(x: dy, y: dx, batch: batch, rows: rows, cols: cols, fill: 0))
        return ["x": dx]
    }, file: file, line: line)
}

/// One attention head per batch entry, `O = softmax(mask(Q·Kᵀ/√width))·V` with q, k, v [batch, length, width],
/// the mask −∞ above the diagonal when `causal`; backward as the graph's VJP rules compose it.
@discardableResult
public func checkAttentionHeadGradient(on backend: Backend, batch: Int, length: Int, width: Int, causal: Bool,
                                       seed: UInt64 = 35, file: StaticString = #filePath,
                                       line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let count = batch * length * width, scores = batch * length * length
    let scale = 1 / Float(width).squareRoot()
    func product(_ m: Int, _ n: Int, _ k: Int, tA: Bool = false, tB: Bool = false, alpha: Float = 1) -> MatmulShape {
        MatmulShape(m: m, n: n, k: k, transposeA: tA, transposeB: tB, alpha: alpha)
    }
    return checkGradient("attention head \(batch)×\(length)×\(width)\(causal ? " causal" : "")", on: backend,
                         inputs: ["q": random.floats(count, in: -2...2), "k": random.floats(count, in: -2...2),
                                  "v": random.floats(count)], wrt: ["q", "k", "v"], forward: { ctx in
        let s = try ctx.buffer("s", count: scores), masked = try ctx.buffer("masked", count: scores)
        let p = try ctx.buffer("p", count: scores), o = try ctx.buffer("o", count: count)
        try ctx.run(.batchedMatmul(a: try ctx["q"], b: try ctx["k"], c: s, batch: batch,
                                   shape: product(length, length, width, tB: true, alpha: scale)))
        try ctx.run(.causalMask(x: s, y: masked, batch: batch, rows: length, cols: length, fill: causal ? -.infinity : 0))
        try ctx.run(.softmax(x: causal ? masked : s, y: p, rows: batch * length, cols: length))
        try ctx.run(.batchedMatmul(a: p, b: try ctx["v"], c: o, batch: batch, shape: product(length, width, length)))
        return (o, count)
    }, backward: { ctx, dO in
        let p = try ctx["p"], dP = try ctx.buffer("dP", count: scores), dM = try ctx.buffer("dM", count: scores)
        let dS = try ctx.buffer("dS", count: scores)
        let dq = try ctx.buffer("dq", count: count), dk = try ctx.buffer("dk", count: count)
        let dv = try ctx.buffer("dv", count: count)
        try ctx.run(.batchedMatmul(a: dO, b: try ctx["v"], c: dP, batch: batch, shape: product(length, length, width, tB: true)))
        try ctx.run(.batchedMatmul(a: p, b: dO, c: dv, batch: batch, shape: product(length, width, length, tA: true)))
        try ctx.run(.softmaxBackward(y: p, dy: dP, dx: dM, rows: batch * length, cols: length))
        try ctx.run(.causalMask(x: dM, y: dS, batch: batch, rows: length, cols: length, fill: 0))
        let dScores = causal ? dS : dM
        try ctx.run(.batchedMatmul(a: dScores, b: try ctx["k"], c: dq, batch: batch,
                                   shape: product(length, width, length, alpha: scale)))
        try ctx.run(.batchedMatmul(a: dScores, b: try ctx["q"], c: dk, batch: batch,
                                   shape: product(length, width, length, tA: true, alpha: scale)))
        return ["q": dq, "k": dk, "v": dv]
    }, file: file, line: line)
}
