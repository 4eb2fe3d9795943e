import CanopyCore
import CCPUKernels
import CCBLAS
import CGemm
import Foundation

// Matrix products, row-major: Canopy's AVX-512 SGEMM (Sources/CGemm) or CBLAS sgemm (OpenBLAS).

/// The single-threaded SGEMM under a ``CPUBackend``'s matrix products (matmul, attention, convolutions).
///
/// `avx512` is Canopy's own SGEMM (Sources/CGemm: packed panels, a 12×32 AVX-512 microkernel), used when the
/// CPU has AVX-512 F/VL/BW/DQ and FMA and the operating system enables the zmm state; `openblas` is
/// `cblas_sgemm`. The environment variable `CANOPY_CPU_GEMM=openblas`, read when a backend is created, forces
/// OpenBLAS (for comparisons); any other value, or none, takes `avx512` where the CPU supports it. Both give
/// the same bits whatever the backend's thread count; they differ from each other in the last bits.
public enum CPUMatrixProductEngine: String, Sendable {
    case avx512, openblas

    /// `AVX-512` or `OpenBLAS`.
    public var title: String { self == .avx512 ? "AVX-512" : "OpenBLAS" }

    /// The engine for a backend created now: ``avx512`` unless `CANOPY_CPU_GEMM` is `openblas` or the CPU
    /// (or the OS) lacks AVX-512.
    static func chosen() -> CPUMatrixProductEngine {
        if ProcessInfo.processInfo.environment["CANOPY_CPU_GEMM"]?.lowercased() == "openblas" { return .openblas }
        return canopy_gemm_supported() != 0 ? .avx512 : .openblas
    }
}

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

    /// `C = f(alpha · op(A) · op(B) + bias)`: each piece of the product (see ``sgemm``) gets its bias and f on the
    /// thread that computed it, while the piece is still in cache. The bias is added and f applied by the kernels
    /// `biasAdd` and `unary` use, so the bits are theirs.
    func matmulBias(a: DeviceBuffer, b: DeviceBuffer, bias: DeviceBuffer, c: DeviceBuffer, shape s: MatmulShape,
                    activation: UnaryFunction?) throws {
        guard max(s.m, s.n, s.k) <= Int(Int32.max) else {
            throw invalid("matmulBias", "m = \(s.m), n = \(s.n), k = \(s.k) exceed the BLAS index range")
        }
        let a = reading(a)
        let b = reading(b)
        let bias = reading(bias)
        let c = writing(c)
        let n = s.n
        sgemm(transposeA: s.transposeA, transposeB: s.transposeB, m: s.m, n: n, k: s.k, alpha: s.alpha,
              a: a, lda: s.transposeA ? s.m : s.k, b: b, ldb: s.transposeB ? s.k : n, beta: 0, c: c, ldc: n) { rows, columns in
            for row in rows {
                let start = c + row * n + columns.lowerBound
                canopy_add(start, bias + columns.lowerBound, start, columns.count)
                if let activation { CPUBackend.apply(activation, x: start, y: start, range: 0..<columns.count) }
            }
        }
    }

    /// The product size `m·n·k` from which a matrix product is split into pieces spread over ``threads``;
    /// smaller products are one single-threaded call (``matrixProductEngine``) on the calling thread.
    ///
    /// Kept for ``CPUMatrixProductEngine/avx512`` too (not re-measured per size): its single-threaded rate is
    /// about 1.7× OpenBLAS's here, so 8M is ≈ 80 µs on one thread, still above the cost of waking and joining a
    /// second thread measured below.
    /// OpenBLAS always runs single-threaded here (its own threads start at m·n·k ≥ 262,144, spin-wait between
    /// calls, 55 % of an MMoE step's samples, and change the bits with the thread count). Measured with OpenBLAS
    /// 0.3.21 on the 2-core development machine, one thread against two: below about 8M (≈ 140 µs on one thread)
    /// a second thread never paid and often cost (128×64×100: 14 µs on one thread, 25 µs on two; 128×10×256:
    /// 9 µs against 25 µs), since waking and joining a thread costs microseconds to tens of microseconds.
    public static let blasThreadingThreshold = 1 << 23

    /// The most pieces a large product is cut into, and the fewest rows (or columns) of C in a piece.
    static let maximumProductPieces = 8, minimumPieceExtent = 32

    /// How many pieces a product of `m·n·k = work` whose C has `longest` rows (or columns) is cut into: one below
    /// ``blasThreadingThreshold``, two from it, then four from 16 times it and eight from 32 times it. Each piece
    /// packs the shared operand again, which on one thread cost 1–2 % for two pieces, 4–6 % for four and 15–27 %
    /// for sixteen (512³, 128×512×784, 1024³); a power of two shares out evenly over 2, 4 or 8 threads.
    static func productPieces(work: Double, longest: Int) -> Int {
        let threshold = Double(blasThreadingThreshold)
        guard work >= threshold, longest >= 2 * minimumPieceExtent else { return 1 }
        var pieces = 2
        while pieces < maximumProductPieces, longest / (2 * pieces) >= minimumPieceExtent,
              work >= threshold * Double(8 * pieces) {
            pieces *= 2
        }
        return pieces
    }

    /// Row-major SGEMM with `cblas_sgemm`'s semantics; `lda`, `ldb`, `ldc` are the stored row lengths.
    ///
    /// From ``blasThreadingThreshold`` up, C is cut along its longer side (rows or columns) into pieces whose
    /// boundaries depend only on m, n and k, one single-threaded call each (``matrixProductEngine``), spread
    /// over ``threads``; so the thread count never changes the result. `epilogue(rows, columns)` runs on each
    /// finished block of C (the whole of C, or one piece) on the thread that computed it.
    func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
               epilogue: (_ rows: Range<Int>, _ columns: Range<Int>) -> Void = { _, _ in }) {
        let work = Double(m) * Double(n) * Double(k)
        let longest = max(m, n)
        let pieces = CPUBackend.productPieces(work: work, longest: longest)
        if pieces <= 1 {
            singleThreadSgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            epilogue(0..<m, 0..<n)
            return
        }
        // Pieces of a multiple of 16 rows or columns (whole register blocks of OpenBLAS's kernels; canopy_sgemm
        // gives each element of C the same bits wherever a piece starts).
        let extent = (longest + pieces - 1) / pieces
        let step = (extent + 15) / 16 * 16
        let count = (longest + step - 1) / step
        parallelFor(chunks: count) { piece in
            let start = piece * step, size = min(step, longest - start)
            if m >= n {
                // Rows start…start+size of op(A) and of C.
                singleThreadSgemm(transposeA: transposeA, transposeB: transposeB, m: size, n: n, k: k, alpha: alpha,
                          a: a + (transposeA ? start : start * lda), lda: lda, b: b, ldb: ldb,
                          beta: beta, c: c + start * ldc, ldc: ldc)
                epilogue(start..<start + size, 0..<n)
            } else {
                // Columns start…start+size of op(B) and of C.
                singleThreadSgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: size, k: k, alpha: alpha,
                          a: a, lda: lda, b: b + (transposeB ? start * ldb : start), ldb: ldb,
                          beta: beta, c: c + start, ldc: ldc)
                epilogue(0..<m, start..<start + size)
            }
        }
    }

    /// One single-threaded product on the calling thread: `canopy_sgemm` (``CPUMatrixProductEngine/avx512``)
    /// or `cblas_sgemm`, row-major.
    private func singleThreadSgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if matrixProductEngine == .avx512 {
            canopy_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }
}
