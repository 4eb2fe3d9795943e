import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// Products from ``CPUBackend/blasThreadingThreshold`` up are cut into pieces of rows (m ≥ n) or columns (m < n)
/// of C, one BLAS call each: every transpose, both cuts, and a last piece shorter than the others, against the
/// naive double-precision reference, on one thread and on two (which must agree bit for bit).
final class MatmulPiecesTests: XCTestCase {
    func testSplitProductsAgainstNaiveOnOneAndTwoThreads() throws {
        let one = CPUBackend(threads: 1), two = CPUBackend(threads: 2)
        // 300×97×301: rows cut (2 pieces of 160 and 140); 41×700×300: columns cut (2 pieces of 352 and 348).
        for (m, n, k) in [(300, 97, 301), (41, 700, 300)] {
            XCTAssertGreaterThanOrEqual(m * n * k, CPUBackend.blasThreadingThreshold, "\(m)×\(n)×\(k) is split")
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(Float(1), Float(0)), (-0.5, 2)] {
                    let call = KernelCalls.matmul(m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                                                  alpha: alpha, beta: beta, seed: UInt64(m + n + k))
                    let shape = MatmulShape(m: m, n: n, k: k, transposeA: ta, transposeB: tb, alpha: alpha, beta: beta)
                    let expected = Naive.matmul(a: call.values("a"), b: call.values("b"), c: call.values("c"), shape)
                    let onOne = try call.run(on: one)["c"]!, onTwo = try call.run(on: two)["c"]!
                    assertClose(onOne, expected, tolerance: KernelCalls.product, "\(call.name), 1 thread")
                    assertClose(onTwo, onOne, tolerance: .exact, "\(call.name), 2 threads against 1")
                }
            }
        }
    }
}
