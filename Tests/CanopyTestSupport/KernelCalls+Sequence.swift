import CanopyCore
import Foundation

// Standard calls of the sequence kernels added with issue 7 (embeddings and attention): embedding lookup and its
// gradient, batched matrix products, axis swaps and the causal mask, at awkward sizes (1, 7, 33, 129).

extension KernelCalls {
    /// Tokens, vocabulary, dim and padding (−1 for none) of the standard embedding calls.
    public static let embeddingSizes: [(tokens: Int, vocabulary: Int, dim: Int, padding: Int)] = [
        (1, 1, 1, -1), (7, 5, 33, 0), (129, 33, 7, 3), (33, 129, 129, -1),
    ]

    /// Batch, m, n, k of the standard batched matmul calls (each with all four transpose combinations).
    public static let batchedMatmulSizes: [(batch: Int, m: Int, n: Int, k: Int)] = [
        (1, 1, 1, 1), (7, 7, 33, 1), (3, 33, 7, 129), (2, 129, 7, 33),
    ]

    /// [outer, first, second, inner] of the standard axis swaps: heads of size 1, a length of 1, awkward sizes.
    public static let swapSizes: [[Int]] = [[1, 1, 1, 1], [2, 7, 4, 1], [3, 33, 2, 7], [1, 5, 129, 3], [7, 1, 33, 4]]

    /// Calls of the sequence kernels for ``standard(seed:)``.
    static func standardSequenceCalls(seed: UInt64) -> [KernelCall] {
        var calls: [KernelCall] = []
        for size in embeddingSizes {
            calls += [embedding(tokens: size.tokens, vocabulary: size.vocabulary, dim: size.dim, padding: size.padding,
                                seed: seed),
                      embeddingBackward(tokens: size.tokens, vocabulary: size.vocabulary, dim: size.dim,
                                        padding: size.padding, seed: seed)]
        }
        for size in batchedMatmulSizes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                calls.append(batchedMatmul(batch: size.batch, m: size.m, n: size.n, k: size.k, transposeA: ta,
                                           transposeB: tb, seed: seed))
            }
        }
        calls.append(batchedMatmul(batch: 3, m: 7, n: 5, k: 33, transposeB: true, alpha: 0.25, beta: 1.5, seed: seed))
        for shape in swapSizes { calls.append(swapAxes(shape, seed: seed)) }
        for (batch, rows, cols, fill) in [(1, 1, 1, Float(-1e9)), (7, 7, 7, -1e9), (3, 33, 33, 0), (2, 5, 129, -3),
                                          (1, 129, 7, -1e9)] {
            calls.append(causalMask(batch: batch, rows: rows, cols: cols, fill: fill, seed: seed))
        }
        return calls
    }

    /// Token ids for an embedding of `vocabulary` rows: mostly valid ids (with repeats), and, when there are
    /// enough tokens, ids that have no row (−1, `vocabulary`, 1.5, NaN) and the padding id.
    public static func embeddingIDs(tokens: Int, vocabulary: Int, padding: Int, random: inout TestRandom) -> [Float] {
        var ids = (0..<tokens).map { _ in Float(random.int(below: vocabulary)) }
        if tokens >= 7 {
            ids[1] = -1; ids[2] = Float(vocabulary); ids[3] = 1.5; ids[4] = .nan
            if padding >= 0 { ids[5] = Float(padding) }
        }
        return ids
    }

    public static func embedding(tokens: Int, vocabulary: Int, dim: Int, padding: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let ids = embeddingIDs(tokens: tokens, vocabulary: vocabulary, padding: padding, random: &random)
        return KernelCall("embedding \(tokens) of \(vocabulary)×\(dim) padding \(padding)",
                          buffers: ["ids": ids, "weight": random.floats(vocabulary * dim), "y": .nan(tokens * dim)],
                          outputs: ["y"], tolerance: .exact) {
            .embedding(ids: try $0["ids"], weight: try $0["weight"], y: try $0["y"], tokens: tokens,
                       vocabulary: vocabulary, dim: dim, padding: padding)
        }
    }

    public static func embeddingBackward(tokens: Int, vocabulary: Int, dim: Int, padding: Int,
                                         seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let ids = embeddingIDs(tokens: tokens, vocabulary: vocabulary, padding: padding, random: &random)
        return KernelCall("embeddingBackward \(tokens) of \(vocabulary)×\(dim) padding \(padding)",
                          buffers: ["ids": ids, "dy": random.floats(tokens * dim), "dWeight": .nan(vocabulary * dim)],
                          outputs: ["dWeight"], tolerance: .exact) {
            .embeddingBackward(ids: try $0["ids"], dy: try $0["dy"], dWeight: try $0["dWeight"], tokens: tokens,
                               vocabulary: vocabulary, dim: dim, padding: padding)
        }
    }

    /// A batched matmul with inputs in [-1, 1]; C starts as NaN when `beta == 0`, random otherwise.
    public static func batchedMatmul(batch: Int, m: Int, n: Int, k: Int, transposeA: Bool = false,
                                     transposeB: Bool = false, alpha: Float = 1, beta: Float = 0,
                                     seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let shape = MatmulShape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, alpha: alpha, beta: beta)
        let c: [Float] = beta == 0 ? .nan(batch * m * n) : random.floats(batch * m * n)
        let name = "batchedMatmul \(batch)×\(m)×\(n)×\(k)\(transposeA ? " Aᵀ" : "")\(transposeB ? " Bᵀ" : "") α=\(alpha) β=\(beta)"
        return KernelCall(name, buffers: ["a": random.floats(batch * m * k), "b": random.floats(batch * k * n), "c": c],
                          outputs: ["c"], tolerance: product) {
            .batchedMatmul(a: try $0["a"], b: try $0["b"], c: try $0["c"], batch: batch, shape: shape)
        }
    }

    /// `x [outer, first, second, inner] → [outer, second, first, inner]`.
    public static func swapAxes(_ shape: [Int], seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let count = shape.reduce(1, *)
        return KernelCall("swapAxes \(shape.map(String.init).joined(separator: "×"))",
                          buffers: ["x": random.floats(count), "y": .nan(count)], outputs: ["y"], tolerance: .exact) {
            .swapAxes(x: try $0["x"], y: try $0["y"], outer: shape[0], first: shape[1], second: shape[2], inner: shape[3])
        }
    }

    public static func causalMask(batch: Int, rows: Int, cols: Int, fill: Float, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let count = batch * rows * cols
        return KernelCall("causalMask \(batch)×\(rows)×\(cols) fill \(fill)",
                          buffers: ["x": random.floats(count), "y": .nan(count)], outputs: ["y"], tolerance: .exact) {
            .causalMask(x: try $0["x"], y: try $0["y"], batch: batch, rows: rows, cols: cols, fill: fill)
        }
    }
}
