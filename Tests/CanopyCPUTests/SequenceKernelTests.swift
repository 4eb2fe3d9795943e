import CanopyCore
import CanopyCPU
import CanopyTestSupport
import Foundation
import XCTest

/// The sequence kernels (embedding lookup and gradient, batched matmul, axis swap, causal mask) on the CPU against
/// direct loops written here, at the standard calls' awkward sizes.
final class SequenceKernelTests: XCTestCase {
    let cpu = CPUBackend()

    /// The row of an id, or nil (not whole, out of range, NaN, padding): the documented rule, written again.
    private func row(_ id: Float, _ vocabulary: Int, _ padding: Int) -> Int? {
        guard id.isFinite, id >= 0, id < Float(vocabulary), id.rounded() == id, Int(id) != padding else { return nil }
        return Int(id)
    }

    func testEmbeddingGathersRowsAndGivesZerosForIdsWithoutARow() throws {
        for size in KernelCalls.embeddingSizes {
            let call = KernelCalls.embedding(tokens: size.tokens, vocabulary: size.vocabulary, dim: size.dim,
                                             padding: size.padding, seed: 5)
            let ids = call.values("ids"), weight = call.values("weight")
            var expected = [Float](repeating: 0, count: size.tokens * size.dim)
            for t in 0..<size.tokens {
                guard let r = row(ids[t], size.vocabulary, size.padding) else { continue }
                for d in 0..<size.dim { expected[t * size.dim + d] = weight[r * size.dim + d] }
            }
            XCTAssertEqual(try call.run(on: cpu)["y"]!, expected, call.name)
        }
    }

    /// A hand case: ids [2, 0, 2, 7, −1, 1.5] into 3×2 with padding 0: tokens 0 and 2 share row 2.
    func testEmbeddingBackwardSumsRepeatsAndSkipsPaddingAndInvalidIds() throws {
        let call = KernelCall("embeddingBackward", buffers: ["ids": [2, 0, 2, 7, -1, 1.5],
                                                             "dy": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
                                                             "dWeight": .nan(6)], outputs: ["dWeight"]) {
            .embeddingBackward(ids: try $0["ids"], dy: try $0["dy"], dWeight: try $0["dWeight"], tokens: 6,
                               vocabulary: 3, dim: 2, padding: 0)
        }
        XCTAssertEqual(try call.run(on: cpu)["dWeight"]!, [0, 0, 0, 0, 1 + 5, 2 + 6])
        for size in KernelCalls.embeddingSizes {
            let call = KernelCalls.embeddingBackward(tokens: size.tokens, vocabulary: size.vocabulary, dim: size.dim,
                                                     padding: size.padding, seed: 6)
            let ids = call.values("ids"), dy = call.values("dy")
            var expected = [Double](repeating: 0, count: size.vocabulary * size.dim)
            for t in 0..<size.tokens {
                guard let r = row(ids[t], size.vocabulary, size.padding) else { continue }
                for d in 0..<size.dim { expected[r * size.dim + d] += Double(dy[t * size.dim + d]) }
            }
            assertClose(try call.run(on: cpu)["dWeight"]!, expected.map { Float($0) }, tolerance: .float32, call.name)
        }
    }

    func testBatchedMatmulMatchesAMatmulPerBatch() throws {
        for size in KernelCalls.batchedMatmulSizes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let call = KernelCalls.batchedMatmul(batch: size.batch, m: size.m, n: size.n, k: size.k, transposeA: ta,
                                                     transposeB: tb, seed: 7)
                try checkBatched(call, batch: size.batch, MatmulShape(m: size.m, n: size.n, k: size.k, transposeA: ta,
                                                                       transposeB: tb))
            }
        }
        let call = KernelCalls.batchedMatmul(batch: 3, m: 7, n: 5, k: 33, transposeB: true, alpha: 0.25, beta: 1.5, seed: 8)
        try checkBatched(call, batch: 3, MatmulShape(m: 7, n: 5, k: 33, transposeB: true, alpha: 0.25, beta: 1.5))
    }

    private func checkBatched(_ call: KernelCall, batch: Int, _ s: MatmulShape) throws {
        let a = call.values("a"), b = call.values("b"), c = call.values("c")
        var expected: [Float] = []
        for q in 0..<batch {
            expected += Naive.matmul(a: Array(a[(q * s.m * s.k)..<((q + 1) * s.m * s.k)]),
                                     b: Array(b[(q * s.k * s.n)..<((q + 1) * s.k * s.n)]),
                                     c: Array(c[(q * s.m * s.n)..<((q + 1) * s.m * s.n)]), s)
        }
        assertClose(try call.run(on: cpu)["c"]!, expected, tolerance: KernelCalls.product, call.name)
    }

    func testSwapAxesExchangesTheMiddleDimensions() throws {
        for shape in KernelCalls.swapSizes {
            let call = KernelCalls.swapAxes(shape, seed: 9)
            let x = call.values("x"), (o, p, q, e) = (shape[0], shape[1], shape[2], shape[3])
            var expected = [Float](repeating: .nan, count: x.count)
            for a in 0..<o { for i in 0..<p { for j in 0..<q { for f in 0..<e {
                expected[((a * q + j) * p + i) * e + f] = x[((a * p + i) * q + j) * e + f]
            } } } }
            XCTAssertEqual(try call.run(on: cpu)["y"]!, expected, call.name)
        }
    }

    func testCausalMaskFillsAboveTheDiagonalIncludingMinusInfinity() throws {
        for fill in [-Float.infinity, -3] {
            let call = KernelCalls.causalMask(batch: 2, rows: 5, cols: 7, fill: fill, seed: 10)
            let x = call.values("x")
            let expected = x.indices.map { g -> Float in (g % 7) > (g / 7) % 5 ? fill : x[g] }
            XCTAssertEqual(try call.run(on: cpu)["y"]!, expected, "fill \(fill)")
        }
    }
}

/// The sequence kernels' size rules, checked in Core for every backend.
final class SequenceContractTests: XCTestCase {
    func testSizeRules() {
        let b = DetachedBuffer(count: 100), c = DetachedBuffer(count: 100), d = DetachedBuffer(count: 100)
        func reason(_ kernel: Kernel) -> String {
            do { try kernel.validate(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(reason(.embedding(ids: b, weight: c, y: d, tokens: 4, vocabulary: 5, dim: 3, padding: 4)), "no error")
        XCTAssertTrue(reason(.embedding(ids: b, weight: c, y: d, tokens: 4, vocabulary: 5, dim: 3, padding: 5))
            .contains("padding must be −1 (none) or a row in 0..<5, got 5"))
        XCTAssertTrue(reason(.embeddingBackward(ids: b, dy: c, dWeight: d, tokens: 4, vocabulary: 5, dim: 3, padding: -2))
            .contains("padding must be −1"))
        XCTAssertTrue(reason(.embedding(ids: b, weight: c, y: d, tokens: 4, vocabulary: 50, dim: 3, padding: -1))
            .contains("weight holds 100 elements but the call needs 150"))
        XCTAssertTrue(reason(.embedding(ids: b, weight: c, y: d, tokens: 1 << 16, vocabulary: 1 << 16, dim: 1 << 16,
                                        padding: -1)).contains("exceeds 32-bit indices"))
        XCTAssertTrue(reason(.batchedMatmul(a: b, b: c, c: d, batch: 0, shape: MatmulShape(m: 1, n: 1, k: 1)))
            .contains("batch"))
        XCTAssertTrue(reason(.batchedMatmul(a: b, b: c, c: d, batch: 5, shape: MatmulShape(m: 3, n: 3, k: 7)))
            .contains("a holds 100 elements but the call needs 105"))
        XCTAssertTrue(reason(.swapAxes(x: b, y: c, outer: 2, first: 0, second: 3, inner: 1)).contains("first"))
        XCTAssertTrue(reason(.causalMask(x: b, y: c, batch: 3, rows: 6, cols: 6, fill: 0))
            .contains("x holds 100 elements but the call needs 108"))
    }
}
