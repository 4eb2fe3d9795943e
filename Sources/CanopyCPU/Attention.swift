import CanopyCore

// The operations attention is assembled from: batched matrix products (through sgemm, one per matrix), swapping
// two adjacent axes, and the causal mask.

extension CPUBackend {
    /// `C[b] = alpha · op(A[b]) · op(B[b]) + beta · C[b]` for each of `batch` contiguous matrices.
    func batchedMatmul(a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer, batch: Int, shape s: MatmulShape) throws {
        guard max(s.m, s.n, s.k) <= Int(Int32.max) else {
            throw invalid("batchedMatmul", "m = \(s.m), n = \(s.n), k = \(s.k) exceed the BLAS index range")
        }
        let a = reading(a), b = reading(b), c = writing(c)
        for index in 0..<batch {
            sgemm(transposeA: s.transposeA, transposeB: s.transposeB, m: s.m, n: s.n, k: s.k, alpha: s.alpha,
                  a: a + index * s.m * s.k, lda: s.transposeA ? s.m : s.k,
                  b: b + index * s.k * s.n, ldb: s.transposeB ? s.k : s.n,
                  beta: s.beta, c: c + index * s.m * s.n, ldc: s.n)
        }
    }

    /// `y[o, j, i, e] = x[o, i, j, e]` for x [outer, first, second, inner].
    func swapAxes(x: DeviceBuffer, y: DeviceBuffer, outer: Int, first: Int, second: Int, inner: Int) throws {
        let x = reading(x), y = writing(y)
        parallelRows(rows: outer * second, rowCost: first * inner) { range in
            for row in range {
                let o = row / second, j = row % second
                for i in 0..<first {
                    (y + (row * first + i) * inner).update(from: x + ((o * first + i) * second + j) * inner, count: inner)
                }
            }
        }
    }

    /// `y[b, i, j] = j > i ? fill : x[b, i, j]`.
    func causalMask(x: DeviceBuffer, y: DeviceBuffer, batch: Int, rows: Int, cols: Int, fill: Float) throws {
        let x = reading(x), y = writing(y)
        parallelRows(rows: batch * rows, rowCost: cols) { range in
            for row in range {
                let i = row % rows, xr = x + row * cols, yr = y + row * cols
                for j in 0..<cols { yr[j] = j > i ? fill : xr[j] }
            }
        }
    }
}
