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

    /// The product size `m·n·k` from which a matrix product is spread over ``threads`` BLAS threads; smaller
    /// products run on the calling thread alone.
    ///
    /// Measured with OpenBLAS 0.3.21 on the 2-core development machine, one thread against two: below about
    /// 8M (one-thread time ≈ 140 µs) the second thread never paid and often cost (128×64×100: 14 µs on one
    /// thread, 25 µs on two; 128×10×256: 9 µs against 25 µs), because waking and joining BLAS's workers costs tens
    /// of microseconds. OpenBLAS's own cut-off (m·n·k ≥ 262,144) threads such products, and its workers then
    /// spin-wait between them: 55 % of an MMoE step's samples. Single-threaded and threaded OpenBLAS give the
    /// same bits (threads share out the rows and columns of C, never the sum over k), so the choice never changes results.
    public static let blasThreadingThreshold = 1 << 23

    /// Row-major `cblas_sgemm`; `lda`, `ldb`, `ldc` are the stored row lengths. Sets OpenBLAS's thread count for
    /// this product first (measured at a few nanoseconds): ``threads`` from
    /// ``blasThreadingThreshold`` up, else one.
    func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let (mn, overflow) = m.multipliedReportingOverflow(by: n)
        let large = overflow || mn.multipliedReportingOverflow(by: k).overflow
            || mn * k >= CPUBackend.blasThreadingThreshold
        let blasThreads = Int32(large ? threads : 1)
        if openblas_get_num_threads() != blasThreads { openblas_set_num_threads(blasThreads) }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }
}
