import CanopyCore
import CanopyCPU
import CanopyTestSupport
import Foundation
import XCTest

/// The vectorised optimizer steps (eight lanes, then a partial vector for the tail) against a scalar reference in
/// double precision, at counts that exercise only the tail (1, 7), whole vectors and a tail (33, 129), and many
/// threaded chunks (1,000,003). The buffers are longer than `count`: elements past it must be left alone, which
/// catches a tail that stores a whole vector.
final class OptimizerVectorTests: XCTestCase {
    static let counts = [1, 7, 33, 129, 1_000_003]
    /// Float32 state and a double reference of the same formula: a wrong term would miss by orders of magnitude more.
    static let tolerance = Tolerance(absolute: 1e-6, relative: 1e-5)
    /// Elements past `count` in every buffer, filled with a marker that must survive.
    static let padding = 9
    static let marker: Float = 12345

    let cpu = CPUBackend()

    /// Random values for `count` elements, then the marker in the padding.
    func padded(_ random: inout TestRandom, _ count: Int, in range: ClosedRange<Float>) -> [Float] {
        random.floats(count, in: range) + Array(repeating: Self.marker, count: Self.padding)
    }

    /// Downloads `buffer`, checks its padding still holds the marker and returns its first `count` elements.
    func contents(_ buffer: DeviceBuffer, _ count: Int, _ what: String,
                  file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        let all = try cpu.download(buffer)
        XCTAssertEqual(Array(all[count...]), Array(repeating: Self.marker, count: Self.padding),
                       "\(what): elements past count \(count) were written", file: file, line: line)
        return Array(all[..<count])
    }

    func testAdamWAgainstDoubleReference() throws {
        for count in Self.counts {
            for (weightDecay, step) in [(Float(0), 1), (0.05, 7)] {
                var random = TestRandom(seed: UInt64(count * 31 + step))
                let p0 = padded(&random, count, in: -2...2), g = padded(&random, count, in: -1...1)
                let m0 = padded(&random, count, in: -0.5...0.5), v0 = padded(&random, count, in: 0.01...1)
                let param = try cpu.makeBuffer(p0), grad = try cpu.makeBuffer(g)
                let m = try cpu.makeBuffer(m0), v = try cpu.makeBuffer(v0)
                let hyper = AdamHyperparameters(learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6,
                                                weightDecay: weightDecay, step: step)
                try cpu.execute(.adamUpdate(param: param, grad: grad, m: m, v: v, count: count, hyper: hyper))

                let c1 = 1 - pow(0.8, Double(step)), c2 = 1 - pow(0.99, Double(step))
                var expectedP = [Float](), expectedM = [Float](), expectedV = [Float]()
                for i in 0..<count {
                    let gi = Double(g[i]), lr = 0.01
                    let p = Double(p0[i]) * (1 - lr * Double(weightDecay))
                    let mi = 0.8 * Double(m0[i]) + 0.2 * gi
                    let vi = 0.99 * Double(v0[i]) + 0.01 * gi * gi
                    expectedP.append(Float(p - lr * (mi / c1) / ((vi / c2).squareRoot() + 1e-6)))
                    expectedM.append(Float(mi))
                    expectedV.append(Float(vi))
                }
                let label = "adamw count \(count) wd \(weightDecay) step \(step)"
                assertClose(try contents(param, count, label), expectedP, tolerance: Self.tolerance, "\(label) param")
                assertClose(try contents(m, count, label), expectedM, tolerance: Self.tolerance, "\(label) m")
                assertClose(try contents(v, count, label), expectedV, tolerance: Self.tolerance, "\(label) v")
            }
        }
    }

    func testSGDAgainstDoubleReference() throws {
        for count in Self.counts {
            for (momentum, weightDecay) in [(Float(0), Float(0)), (0.9, 0.01)] {
                var random = TestRandom(seed: UInt64(count * 7 + 1))
                let p0 = padded(&random, count, in: -2...2), g = padded(&random, count, in: -1...1)
                let velocity0 = padded(&random, count, in: -0.5...0.5)
                let param = try cpu.makeBuffer(p0), grad = try cpu.makeBuffer(g)
                let velocity = try cpu.makeBuffer(velocity0)
                let hyper = SGDHyperparameters(learningRate: 0.05, momentum: momentum, weightDecay: weightDecay)
                try cpu.execute(.sgdUpdate(param: param, grad: grad, velocity: velocity, count: count, hyper: hyper))

                var expectedP = [Float](), expectedVelocity = [Float]()
                for i in 0..<count {
                    let gi = Double(g[i]) + Double(weightDecay) * Double(p0[i])
                    let vi = Double(momentum) * Double(velocity0[i]) + gi
                    expectedP.append(Float(Double(p0[i]) - 0.05 * vi))
                    expectedVelocity.append(Float(vi))
                }
                let label = "sgd count \(count) momentum \(momentum) wd \(weightDecay)"
                assertClose(try contents(param, count, label), expectedP, tolerance: Self.tolerance, "\(label) param")
                assertClose(try contents(velocity, count, label), expectedVelocity, tolerance: Self.tolerance,
                            "\(label) velocity")
            }
        }
    }

    func testRMSpropAgainstDoubleReference() throws {
        for count in Self.counts {
            for (momentum, weightDecay) in [(Float(0), Float(0)), (0.9, 0.02)] {
                var random = TestRandom(seed: UInt64(count * 13 + 5))
                let p0 = padded(&random, count, in: -2...2), g = padded(&random, count, in: -1...1)
                let square0 = padded(&random, count, in: 0.01...1), buffer0 = padded(&random, count, in: -1...1)
                let param = try cpu.makeBuffer(p0), grad = try cpu.makeBuffer(g)
                let square = try cpu.makeBuffer(square0), buffer = try cpu.makeBuffer(buffer0)
                let hyper = RMSpropHyperparameters(learningRate: 0.01, alpha: 0.9, epsilon: 1e-6, momentum: momentum,
                                                   weightDecay: weightDecay)
                try cpu.execute(.rmspropUpdate(param: param, grad: grad, square: square, buffer: buffer, count: count,
                                               hyper: hyper))

                var expectedP = [Float](), expectedSquare = [Float](), expectedBuffer = [Float]()
                for i in 0..<count {
                    let gi = Double(g[i]) + Double(weightDecay) * Double(p0[i])
                    let s = 0.9 * Double(square0[i]) + 0.1 * gi * gi
                    let step = gi / (s.squareRoot() + 1e-6)
                    let b = momentum > 0 ? Double(momentum) * Double(buffer0[i]) + step : Double(buffer0[i])
                    expectedP.append(Float(Double(p0[i]) - 0.01 * (momentum > 0 ? b : step)))
                    expectedSquare.append(Float(s))
                    expectedBuffer.append(Float(b))
                }
                let label = "rmsprop count \(count) momentum \(momentum) wd \(weightDecay)"
                assertClose(try contents(param, count, label), expectedP, tolerance: Self.tolerance, "\(label) param")
                assertClose(try contents(square, count, label), expectedSquare, tolerance: Self.tolerance,
                            "\(label) square")
                assertClose(try contents(buffer, count, label), expectedBuffer, tolerance: Self.tolerance,
                            "\(label) buffer")
            }
        }
    }

    /// One thread and two give the same bits (chunks depend on the count alone), for an update large enough to
    /// be split and for a matrix product on either side of ``CPUBackend/blasThreadingThreshold``.
    func testThreadCountDoesNotChangeOptimizerOrMatmulBits() throws {
        let one = CPUBackend(threads: 1), two = CPUBackend(threads: 2)
        let count = 300_001
        var random = TestRandom(seed: 99)
        let p0 = random.floats(count), g = random.floats(count), m0 = random.floats(count)
        let v0 = random.floats(count, in: 0...1)
        var results: [[Float]] = []
        for backend in [one, two] {
            let param = try backend.makeBuffer(p0), grad = try backend.makeBuffer(g)
            let m = try backend.makeBuffer(m0), v = try backend.makeBuffer(v0)
            try backend.execute(.adamUpdate(param: param, grad: grad, m: m, v: v, count: count,
                                            hyper: AdamHyperparameters(learningRate: 0.01, weightDecay: 0.1, step: 3)))
            results.append(try backend.download(param) + backend.download(m) + backend.download(v))
        }
        assertClose(results[1], results[0], tolerance: .exact, "adamw, 2 threads against 1")

        for (rows, inner, columns) in [(33, 20, 17), (300, 200, 160)] {
            let a = random.floats(rows * inner), b = random.floats(inner * columns)
            let shape = MatmulShape(m: rows, n: columns, k: inner)
            XCTAssertEqual(rows * columns * inner >= CPUBackend.blasThreadingThreshold, rows == 300)
            var products: [[Float]] = []
            for backend in [one, two] {
                let c = try backend.makeBuffer(count: rows * columns)
                try backend.execute(.matmul(a: try backend.makeBuffer(a), b: try backend.makeBuffer(b), c: c,
                                            shape: shape))
                products.append(try backend.download(c))
            }
            assertClose(products[1], products[0], tolerance: .exact, "matmul \(rows)×\(columns)×\(inner)")
        }
    }
}
