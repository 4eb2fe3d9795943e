import CanopyCore
import CanopyCPU
import CanopyTestSupport
import CCBLAS
import CGemm
import Foundation
import XCTest

/// Canopy's AVX-512 SGEMM (`canopy_sgemm`, Sources/CGemm): against a naive double-precision reference at
/// awkward sizes, all four transposes and products on sub-matrices (row lengths above the minimum); against
/// `cblas_sgemm`; cblas_sgemm's special cases (beta 0 over NaN, alpha 0, k 0, m or n 0); the backend's choice of
/// engine (`CANOPY_CPU_GEMM`); and the same bits on one thread and two.
final class AVX512GemmTests: XCTestCase {
    override func setUpWithError() throws {
        guard canopy_gemm_supported() != 0 else {
            throw XCTSkip("this CPU (or its OS) lacks AVX-512 F/VL/BW/DQ with FMA; the CPU backend uses OpenBLAS")
        }
    }

    /// One product on sub-matrices: A, B and C are stored with `pad` extra floats per row (a block of larger
    /// matrices), C starts filled with `fill` (NaN for beta 0), padding filled with a sentinel.
    struct Product {
        let m, n, k: Int, transposeA, transposeB: Bool, alpha, beta: Float
        let lda, ldb, ldc: Int
        let a, b: [Float]
        var c: [Float]

        init(_ m: Int, _ n: Int, _ k: Int, transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float,
             pad: Int, seed: UInt64) {
            (self.m, self.n, self.k, self.transposeA, self.transposeB) = (m, n, k, transposeA, transposeB)
            (self.alpha, self.beta) = (alpha, beta)
            lda = (transposeA ? m : k) + pad
            ldb = (transposeB ? k : n) + 2 * pad
            ldc = n + pad
            var random = TestRandom(seed: seed)
            a = random.floats((transposeA ? k : m) * lda)
            b = random.floats((transposeB ? n : k) * ldb)
            c = beta == 0 ? [Float](repeating: .nan, count: m * ldc) : random.floats(m * ldc)
            for i in 0..<m { for j in n..<ldc { c[i * ldc + j] = 12345 } }
        }

        var name: String {
            "\(transposeA ? "T" : "N")\(transposeB ? "T" : "N") \(m)×\(n)×\(k) alpha \(alpha) beta \(beta), lda \(lda) ldb \(ldb) ldc \(ldc)"
        }

        func runCanopy() -> [Float] {
            var out = c
            canopy_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, &out, ldc)
            return out
        }

        func runBLAS() -> [Float] {
            var out = c
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, &out,
                        blasint(ldc))
            return out
        }

        /// C's element (i, j) in double precision, and the sum of the terms' magnitudes (the error's scale).
        func reference(_ i: Int, _ j: Int) -> (value: Double, scale: Double) {
            var total = 0.0, magnitude = 0.0
            for p in 0..<k {
                let av = Double(transposeA ? a[p * lda + i] : a[i * lda + p])
                let bv = Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                total += av * bv
                magnitude += abs(av * bv)
            }
            let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            return (Double(alpha) * total + old, abs(Double(alpha)) * magnitude + abs(old))
        }
    }

    /// Checks C against the reference within `1e-5·sqrt(k)` of each element's scale, and that the padding of
    /// C's rows was not written; returns the largest relative error.
    @discardableResult
    func check(_ p: Product, _ got: [Float], file: StaticString = #filePath, line: UInt = #line) -> Double {
        let bound = 1e-5 * Double(max(p.k, 1)).squareRoot()
        var worst = 0.0
        for i in 0..<p.m {
            for j in 0..<p.ldc {
                let value = got[i * p.ldc + j]
                if j >= p.n {
                    XCTAssertEqual(value, 12345, "\(p.name): padding (\(i), \(j)) was written", file: file, line: line)
                    continue
                }
                let (expected, scale) = p.reference(i, j)
                let error = abs(Double(value) - expected) / max(scale, 1e-30)
                guard error.isFinite, error <= bound else {
                    XCTFail("\(p.name): C[\(i), \(j)] = \(value), expected \(expected) (relative error \(error))",
                            file: file, line: line)
                    return .infinity
                }
                worst = max(worst, error)
            }
        }
        return worst
    }

    /// 40 (m, n, k) from {1, 7, 13, 31, 33, 129, 300, 1000}, several with k past one pass of 256.
    static let triples: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 7, 13), (7, 1, 31), (13, 33, 1), (31, 13, 7), (33, 31, 13), (7, 7, 7), (13, 13, 13),
        (129, 1, 7), (1, 129, 33), (31, 33, 129), (33, 129, 31), (129, 129, 13), (7, 300, 33), (300, 7, 31),
        (13, 31, 300), (31, 7, 1000), (7, 33, 1000), (1, 1000, 13), (1000, 1, 31), (1000, 13, 7),
        (13, 1000, 7), (33, 33, 300), (129, 31, 129), (31, 129, 300), (129, 7, 1000), (7, 129, 1000),
        (300, 33, 13), (33, 300, 7), (129, 33, 300), (300, 31, 129), (1, 33, 1000), (33, 1, 1000),
        (13, 7, 300), (7, 13, 129), (1000, 7, 1), (13, 129, 33), (129, 13, 300), (31, 31, 1000), (300, 129, 7),
    ]

    func testAgainstNaiveDoubleReferenceOnSubMatrices() {
        let scalars: [(Float, Float)] = [(1, 0), (-0.5, 1), (1, 0.3), (-0.5, 0), (1, 1), (-0.5, 0.3)]
        var worst = 0.0, count = 0
        for (index, (m, n, k)) in Self.triples.enumerated() {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let (alpha, beta) = scalars[(index + (ta ? 1 : 0) + (tb ? 2 : 0)) % scalars.count]
                let p = Product(m, n, k, transposeA: ta, transposeB: tb, alpha: alpha, beta: beta,
                                pad: index % 3 == 0 ? 0 : 3 + index % 5, seed: UInt64(index * 4 + 1))
                worst = max(worst, check(p, p.runCanopy()))
                count += 1
            }
        }
        XCTAssertEqual(count, 160)
        print("AVX-512 sgemm: \(count) products, largest relative error \(worst)")
    }

    func testAgreesWithOpenBLAS() {
        for (index, (m, n, k)) in [(129, 300, 1000), (300, 129, 33), (7, 1000, 129), (128, 512, 784)].enumerated() {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let p = Product(m, n, k, transposeA: ta, transposeB: tb, alpha: -0.5, beta: index % 2 == 0 ? 0 : 0.3,
                                pad: 2, seed: UInt64(100 + index))
                let ours = p.runCanopy(), blas = p.runBLAS()
                // Each element's scale |alpha|·Σ|a||b| + |beta·c|, from cblas_sgemm on the magnitudes.
                var magnitudes = p.c.map { abs($0) }
                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                            blasint(m), blasint(n), blasint(k), abs(p.alpha), p.a.map { abs($0) }, blasint(p.lda),
                            p.b.map { abs($0) }, blasint(p.ldb), abs(p.beta), &magnitudes, blasint(p.ldc))
                var worst: Float = 0
                for i in 0..<p.m {
                    for j in 0..<p.n {
                        let x = i * p.ldc + j
                        worst = max(worst, abs(ours[x] - blas[x]) / max(magnitudes[x], 1e-30))
                    }
                }
                XCTAssertLessThanOrEqual(worst, 1e-5, "\(p.name): against cblas_sgemm")
            }
        }
    }

    func testSpecialCasesFollowBLAS() {
        // beta 0 overwrites NaN; alpha 0 and k 0 only scale C by beta (beta 0: zeros even over NaN).
        for (k, alpha, beta) in [(5, Float(1), Float(0)), (5, 0, 0.5), (0, 2, 0.5), (0, 2, 0), (5, 0, 0)] {
            let p = Product(7, 9, max(k, 1), transposeA: false, transposeB: true, alpha: alpha, beta: beta, pad: 1,
                            seed: 7)
            var ours = p.c, blas = p.c
            canopy_sgemm(0, 1, 7, 9, k, alpha, p.a, p.lda, p.b, p.ldb, beta, &ours, p.ldc)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 7, 9, blasint(k), alpha, p.a, blasint(p.lda), p.b,
                        blasint(p.ldb), beta, &blas, blasint(p.ldc))
            XCTAssertFalse(ours.contains { $0.isNaN }, "k \(k) alpha \(alpha) beta \(beta): NaN left in C")
            if k == 0 || alpha == 0 {
                XCTAssertEqual(ours, blas, "k \(k) alpha \(alpha) beta \(beta)")
            } else {
                check(p, ours)
            }
        }
        // m or n zero: nothing is touched.
        var c: [Float] = [.nan, 3]
        canopy_sgemm(0, 0, 0, 2, 3, 1, [1, 2, 3], 3, [1, 2, 3, 4, 5, 6], 2, 0, &c, 2)
        canopy_sgemm(0, 0, 1, 0, 3, 1, [1, 2, 3], 3, [1, 2, 3], 1, 0, &c, 2)
        XCTAssertTrue(c[0].isNaN)
        XCTAssertEqual(c[1], 3)
    }

    /// A backend's matmul on `engine`'s bits: `CANOPY_CPU_GEMM=openblas` gives cblas_sgemm, otherwise canopy_sgemm.
    func testEnvironmentChoosesTheEngine() throws {
        XCTAssertEqual(CPUBackend(threads: 1).matrixProductEngine, .avx512)
        setenv("CANOPY_CPU_GEMM", "openblas", 1)
        let blasBackend = CPUBackend(threads: 1)
        unsetenv("CANOPY_CPU_GEMM")
        let ownBackend = CPUBackend(threads: 1)
        XCTAssertEqual(blasBackend.matrixProductEngine, .openblas)
        XCTAssertEqual(ownBackend.matrixProductEngine, .avx512)
        XCTAssertTrue(blasBackend.deviceDescription.contains("OpenBLAS"), blasBackend.deviceDescription)
        XCTAssertTrue(ownBackend.deviceDescription.contains("AVX-512"), ownBackend.deviceDescription)

        let p = Product(33, 45, 129, transposeA: true, transposeB: false, alpha: 1, beta: 0, pad: 0, seed: 3)
        let ours = p.runCanopy(), blas = p.runBLAS()
        XCTAssertNotEqual(ours, blas, "the two engines differ somewhere in the last bits at this size")
        let shape = MatmulShape(m: p.m, n: p.n, k: p.k, transposeA: true)
        for (backend, expected) in [(blasBackend, blas), (ownBackend, ours)] {
            let c = try backend.makeBuffer(count: p.m * p.n)
            try backend.execute(.matmul(a: try backend.makeBuffer(p.a), b: try backend.makeBuffer(p.b), c: c,
                                        shape: shape))
            XCTAssertEqual(try backend.download(c), expected, "\(backend.matrixProductEngine)")
        }
    }

    /// Products split into pieces over threads give the bits of one canopy_sgemm call: each element is summed
    /// in an order that depends on k alone.
    func testPiecesAndThreadsDoNotChangeBits() throws {
        let one = CPUBackend(threads: 1), two = CPUBackend(threads: 2)
        for (m, n, k) in [(300, 200, 160), (41, 700, 300)] {
            XCTAssertGreaterThanOrEqual(m * n * k, CPUBackend.blasThreadingThreshold, "\(m)×\(n)×\(k) is split")
            for (ta, tb) in [(false, true), (true, false)] {
                let p = Product(m, n, k, transposeA: ta, transposeB: tb, alpha: 1, beta: 0, pad: 0, seed: 11)
                let whole = p.runCanopy()
                let shape = MatmulShape(m: m, n: n, k: k, transposeA: ta, transposeB: tb)
                for backend in [one, two] {
                    let c = try backend.makeBuffer(count: m * n)
                    try backend.execute(.matmul(a: try backend.makeBuffer(p.a), b: try backend.makeBuffer(p.b), c: c,
                                                shape: shape))
                    XCTAssertEqual(try backend.download(c), whole, "\(p.name) on \(backend.threads) threads")
                }
            }
        }
    }
}
