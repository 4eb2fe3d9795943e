/// Typed builders of the sequence operations: embedding lookup, batched matrix products, swapping two adjacent
/// axes and the causal mask, from which attention is assembled.
extension Graph {
    /// Each id's row of `weight` [V, D]: ids [...] (token ids stored as whole floats) → [..., D]. Ids that are
    /// not whole numbers in [0, V), and `padding` (an id in [0, V)), give zero rows and no gradient.
    public func embedding(_ ids: Value, weight: Value, padding: Int? = nil, label: String = "") throws -> Value {
        let si = shape(of: ids), sw = shape(of: weight)
        guard !si.isEmpty, sw.count == 2 else {
            throw GraphError("embedding needs ids [...] and weight [V, D], got \(si) and \(sw)")
        }
        if let padding, !(0..<sw[0]).contains(padding) {
            throw GraphError("embedding padding \(padding) is not an id in 0..<\(sw[0])")
        }
        return append(.embedding(padding: padding), inputs: [ids, weight], outputShapes: [si + [sw[1]]], label: label)
    }

    /// `op(a[b])·op(b[b])` for every b of rank-3 a [B, M, K] and b [B, K, N] (stored [B, K, M] with `transposeA`,
    /// [B, N, K] with `transposeB`) → [B, M, N].
    public func batchedMatmul(_ a: Value, _ b: Value, transposeA: Bool = false, transposeB: Bool = false,
                              label: String = "") throws -> Value {
        let sa = shape(of: a), sb = shape(of: b)
        guard sa.count == 3, sb.count == 3, sa[0] == sb[0] else {
            throw GraphError("batched matmul needs rank-3 operands with equal batch, got \(sa) and \(sb)")
        }
        let (m, k1) = transposeA ? (sa[2], sa[1]) : (sa[1], sa[2])
        let (k2, n) = transposeB ? (sb[2], sb[1]) : (sb[1], sb[2])
        guard k1 == k2 else { throw GraphError("batched matmul inner sizes differ: \(sa) and \(sb)") }
        return append(.batchedMatmul(transposeA: transposeA, transposeB: transposeB), inputs: [a, b],
                      outputShapes: [[sa[0], m, n]], label: label)
    }

    /// x with dimensions `axis` and `axis + 1` exchanged (a copy): [..., P, Q, ...] → [..., Q, P, ...].
    public func swapAxes(_ x: Value, axis: Int, label: String = "") throws -> Value {
        var sx = shape(of: x)
        guard axis >= 0, axis + 1 < sx.count else {
            throw GraphError("swapAxes(\(axis)) needs at least \(axis + 2) dimensions, got \(sx)")
        }
        sx.swapAt(axis, axis + 1)
        return append(.swapAxes(axis: axis), inputs: [x], outputShapes: [sx], label: label)
    }

    /// x [..., rows, cols] with every entry above the diagonal (column j > row i) replaced by `fill`: −∞ before a
    /// softmax lets position i attend only to positions j ≤ i.
    public func causalMask(_ x: Value, fill: Float = -.infinity, label: String = "") throws -> Value {
        let sx = shape(of: x)
        guard sx.count >= 2 else { throw GraphError("causal mask needs [..., rows, cols], got \(sx)") }
        return append(.causalMask(fill: fill), inputs: [x], outputShapes: [sx], label: label)
    }
}
