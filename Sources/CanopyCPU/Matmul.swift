import CanopyCore
import CCBLAS

// Matrix products through CBLAS sgemm (OpenBLAS), row-major.

extension CPUBackend {
    /// `C = alpha · op(A) · op(B) + beta · C`.
    ///
    /// With `beta == 0` the old contents of C are ignored even when they are NaN: the BLAS reference semantics
    /// (which OpenBLAS follows, and the tests check) overwrite C with zeros before accumulating when beta is 0.
    func matmul(a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer, shape s: MatmulShape) throws {
        guard max(s.m, s.n, s.k) <= Int(Int32.max) else {
            throw invalid("matmul", "m = \(s.m), n = \(s.n), k = \(s.k) exceed the BLAS index range")
        }
        let a = reading(a)
        let b = reading(b)
        let c = writing(c)
        sgemm(transposeA: s.transposeA, transposeB: s.transposeB, m: s.m, n: s.n, k: s.k, alpha: s.alpha,
              a: a, lda: s.transposeA ? s.m : s.k, b: b, ldb: s.transposeB ? s.k : s.n,
              beta: s.beta, c: c, ldc: s.n)
    }

    /// Row-major `cblas_sgemm`; `lda`, `ldb`, `ldc` are the stored row lengths.
    func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }
}
