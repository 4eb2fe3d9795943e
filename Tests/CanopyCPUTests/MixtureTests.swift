import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

extension Naive {
    /// The block copy as the spec reads: y starts as `y`, block elements are replaced from x.
    static func copyBlock(x: [Float], y: [Float], rows: Int, cols: Int, xStride: Int, xOffset: Int, yStride: Int,
                          yOffset: Int) -> [Float] {
        var result = y
        for r in 0..<rows {
            for c in 0..<cols { result[r * yStride + yOffset + c] = x[r * xStride + xOffset + c] }
        }
        return result
    }

    /// `y[n, f] = Σ_e gates[n, e] · values[n, e, f]`, in double.
    static func mixture(gates: [Float], values: [Float], rows: Int, experts: Int, features: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * features)
        for n in 0..<rows {
            for f in 0..<features {
                var total = 0.0
                for e in 0..<experts {
                    total += Double(gates[n * experts + e]) * Double(values[(n * experts + e) * features + f])
                }
                y[n * features + f] = Float(total)
            }
        }
        return y
    }

    /// `dGates[n, e] = Σ_f dy[n, f] · values[n, e, f]`, in double.
    static func mixtureBackwardGates(values: [Float], dy: [Float], rows: Int, experts: Int, features: Int) -> [Float] {
        (0..<rows * experts).map { q in
            let n = q / experts
            var total = 0.0
            for f in 0..<features { total += Double(dy[n * features + f]) * Double(values[q * features + f]) }
            return Float(total)
        }
    }

    /// `dValues[n, e, f] = gates[n, e] · dy[n, f]`.
    static func mixtureBackwardValues(gates: [Float], dy: [Float], rows: Int, experts: Int, features: Int) -> [Float] {
        (0..<rows * experts * features).map { i in
            let q = i / features, f = i % features
            return gates[q] * dy[(q / experts) * features + f]
        }
    }
}

/// copyBlock and the mixture kernels against the naive references above, and their bad calls.
final class MixtureTests: XCTestCase {
    let cpu = CPUBackend()

    /// Block shapes: one element, rows = 1 with strides far beyond cols, concatenation and slicing at offsets,
    /// and the standard shapes. The destination is NaN everywhere: the block must be copied exactly and every
    /// other element must still be the same NaN afterwards.
    func testCopyBlockWritesTheBlockAndNothingElse() throws {
        let shapes = KernelCalls.copyBlockShapes + [
            (rows: 1, cols: 3, xStride: 50, xOffset: 11, yStride: 70, yOffset: 4),
            (rows: 5, cols: 1, xStride: 3, xOffset: 2, yStride: 4, yOffset: 3),
            (rows: 2000, cols: 40, xStride: 40, xOffset: 0, yStride: 97, yOffset: 57),   // the multi-threaded path
        ]
        var random = TestRandom(seed: 21)
        for s in shapes {
            let xCount = KernelCalls.blockExtent(rows: s.rows, cols: s.cols, stride: s.xStride, offset: s.xOffset)
            let yCount = KernelCalls.blockExtent(rows: s.rows, cols: s.cols, stride: s.yStride, offset: s.yOffset) + 5
            let x = random.floats(xCount), y = [Float].nan(yCount)
            let call = KernelCall("copyBlock", buffers: ["x": x, "y": y], outputs: ["y"]) {
                .copyBlock(x: try $0["x"], y: try $0["y"], rows: s.rows, cols: s.cols, xStride: s.xStride,
                           xOffset: s.xOffset, yStride: s.yStride, yOffset: s.yOffset)
            }
            let got = try call.run(on: cpu)["y"]!
            let expected = Naive.copyBlock(x: x, y: y, rows: s.rows, cols: s.cols, xStride: s.xStride,
                                           xOffset: s.xOffset, yStride: s.yStride, yOffset: s.yOffset)
            let mismatches = zip(got, expected).filter { $0.bitPattern != $1.bitPattern }.count
            let touched = got.filter { !$0.isNaN }.count
            print("copyBlock \(s): \(mismatches) of \(yCount) elements differ bitwise; \(touched) written, "
                  + "\(s.rows * s.cols) in the block")
            XCTAssertEqual(mismatches, 0, "copyBlock \(s)")
            XCTAssertEqual(touched, s.rows * s.cols, "copyBlock \(s) wrote outside its block")
        }
    }

    func testMixtureAndGradientsAgainstNaive() throws {
        let shapes = KernelCalls.mixtureShapes + [(rows: 5, experts: 16, features: 1), (rows: 300, experts: 8, features: 70)]
        for s in shapes {
            let (rows, experts, features) = (s.rows, s.experts, s.features)
            let forward = KernelCalls.mixture(rows: rows, experts: experts, features: features, seed: 22)
            let y = try forward.run(on: cpu)["y"]!
            let dy = assertClose(y, Naive.mixture(gates: forward.values("gates"), values: forward.values("values"),
                                                  rows: rows, experts: experts, features: features),
                                 tolerance: .float32, "mixture \(rows)×\(experts)×\(features)")

            let gatesCall = KernelCalls.mixtureBackwardGates(rows: rows, experts: experts, features: features, seed: 23)
            let dGates = try gatesCall.run(on: cpu)["dGates"]!
            let dg = assertClose(dGates, Naive.mixtureBackwardGates(values: gatesCall.values("values"),
                                                                    dy: gatesCall.values("dy"), rows: rows,
                                                                    experts: experts, features: features),
                                 tolerance: .float32, "mixtureBackwardGates \(rows)×\(experts)×\(features)")

            let valuesCall = KernelCalls.mixtureBackwardValues(rows: rows, experts: experts, features: features, seed: 24)
            let dValues = try valuesCall.run(on: cpu)["dValues"]!
            let dv = assertClose(dValues, Naive.mixtureBackwardValues(gates: valuesCall.values("gates"),
                                                                      dy: valuesCall.values("dy"), rows: rows,
                                                                      experts: experts, features: features),
                                 tolerance: .exact, "mixtureBackwardValues \(rows)×\(experts)×\(features)")
            print("mixture \(rows)×\(experts)×\(features) vs naive: y \(dy); dGates \(dg); dValues \(dv)")

            // Accumulating: the products rounded, then added to what dValues held (the bits of a separate add).
            let accumulating = KernelCalls.mixtureBackwardValues(rows: rows, experts: experts, features: features,
                                                                 accumulate: true, seed: 28)
            let sums = try accumulating.run(on: cpu)["dValues"]!
            let terms = Naive.mixtureBackwardValues(gates: accumulating.values("gates"), dy: accumulating.values("dy"),
                                                    rows: rows, experts: experts, features: features)
            let expected = zip(accumulating.values("dValues"), terms).map { $0 + $1 }
            XCTAssertEqual(sums.map(\.bitPattern), expected.map(\.bitPattern), "accumulating \(rows)×\(experts)×\(features)")
        }
    }

    /// The fused gate kernels give exactly the bits of the two calls they replace (softmax then mixture;
    /// mixtureBackwardGates then softmaxBackward), on one thread and on several.
    func testSoftmaxGateKernelsMatchTheCallsTheyReplaceBitForBit() throws {
        let shapes = KernelCalls.mixtureShapes + [(rows: 5, experts: 16, features: 1), (rows: 300, experts: 8, features: 70)]
        for backend in [cpu, CPUBackend(threads: 1)] {
            for s in shapes {
                let (rows, experts, features) = (s.rows, s.experts, s.features)
                let forward = KernelCalls.mixtureSoftmax(rows: rows, experts: experts, features: features, seed: 26)
                let fused = try forward.run(on: backend)
                let softmax = KernelCall("softmax", buffers: ["x": forward.values("logits"), "y": .nan(rows * experts)],
                                         outputs: ["y"]) {
                    .softmax(x: try $0["x"], y: try $0["y"], rows: rows, cols: experts)
                }
                let gates = try softmax.run(on: backend)["y"]!
                let mixture = KernelCall("mixture", buffers: ["g": gates, "v": forward.values("values"),
                                                              "y": .nan(rows * features)], outputs: ["y"]) {
                    .mixture(gates: try $0["g"], values: try $0["v"], y: try $0["y"], rows: rows, experts: experts,
                             features: features)
                }
                let shape = "\(rows)×\(experts)×\(features)"
                XCTAssertEqual(fused["gates"]!.map(\.bitPattern), gates.map(\.bitPattern), "gates \(shape)")
                XCTAssertEqual(fused["y"]!.map(\.bitPattern), try mixture.run(on: backend)["y"]!.map(\.bitPattern), "y \(shape)")

                let backward = KernelCalls.mixtureBackwardLogits(rows: rows, experts: experts, features: features, seed: 27)
                let dLogits = try backward.run(on: backend)["dLogits"]!
                let dGates = try KernelCall("gates gradient", buffers: ["v": backward.values("values"),
                                                                        "dy": backward.values("dy"), "d": .nan(rows * experts)],
                                            outputs: ["d"]) {
                    .mixtureBackwardGates(values: try $0["v"], dy: try $0["dy"], dGates: try $0["d"], rows: rows,
                                          experts: experts, features: features)
                }.run(on: backend)["d"]!
                let unfused = try KernelCall("softmax gradient", buffers: ["y": backward.values("gates"), "dy": dGates,
                                                                          "dx": .nan(rows * experts)], outputs: ["dx"]) {
                    .softmaxBackward(y: try $0["y"], dy: try $0["dy"], dx: try $0["dx"], rows: rows, cols: experts)
                }.run(on: backend)["dx"]!
                XCTAssertEqual(dLogits.map(\.bitPattern), unfused.map(\.bitPattern), "dLogits \(shape)")
                XCTAssertTrue(dLogits.allSatisfy(\.isFinite))
            }
        }
    }

    /// With one-hot gates the mixture picks one expert's output exactly.
    func testOneHotGatesSelectAnExpert() throws {
        let rows = 4, experts = 3, features = 6
        var random = TestRandom(seed: 25)
        let values = random.floats(rows * experts * features)
        let chosen = [2, 0, 1, 2]
        var gates = [Float](repeating: 0, count: rows * experts)
        for n in 0..<rows { gates[n * experts + chosen[n]] = 1 }
        let call = KernelCall("mixture one-hot", buffers: ["g": gates, "v": values, "y": .nan(rows * features)],
                              outputs: ["y"]) {
            .mixture(gates: try $0["g"], values: try $0["v"], y: try $0["y"], rows: rows, experts: experts,
                     features: features)
        }
        var expected: [Float] = []
        for n in 0..<rows {
            let start = (n * experts + chosen[n]) * features
            expected += values[start..<start + features]
        }
        assertClose(try call.run(on: cpu)["y"]!, expected, tolerance: .exact, "one-hot mixture")
    }

    private func assertInvalid(_ kernel: Kernel, mentioning text: String, line: UInt = #line) {
        XCTAssertThrowsError(try cpu.execute(kernel), line: line) { error in
            guard case let BackendError.invalidArguments(name, reason)? = error as? BackendError else {
                return XCTFail("expected invalidArguments, got \(error)", line: line)
            }
            XCTAssertEqual(name, kernel.name, line: line)
            XCTAssertTrue(reason.contains(text), "'\(reason)' does not mention '\(text)'", line: line)
        }
    }

    func testBadCallsThrowAndWriteNothing() throws {
        let x = try cpu.makeBuffer(count: 20), y = try cpu.makeBuffer([Float](repeating: 7, count: 20))
        func block(rows: Int = 2, cols: Int = 3, xStride: Int = 4, xOffset: Int = 0, yStride: Int = 4,
                   yOffset: Int = 0, x xBuffer: DeviceBuffer? = nil) -> Kernel {
            .copyBlock(x: xBuffer ?? x, y: y, rows: rows, cols: cols, xStride: xStride, xOffset: xOffset,
                       yStride: yStride, yOffset: yOffset)
        }
        assertInvalid(block(xStride: 2), mentioning: "xStride")
        assertInvalid(block(yStride: 1), mentioning: "yStride")
        assertInvalid(block(xOffset: -1), mentioning: "xOffset")
        assertInvalid(block(yOffset: -3), mentioning: "yOffset")
        assertInvalid(block(rows: 0), mentioning: "rows")
        assertInvalid(block(cols: 0, xStride: 0, yStride: 0), mentioning: "cols")
        // The last row ends at (5 − 1)·4 + 2 + 3 = 21 > 20.
        assertInvalid(block(rows: 5, yOffset: 2), mentioning: "y holds 20")
        assertInvalid(block(rows: 5, xOffset: 2), mentioning: "x holds 20")
        assertInvalid(block(rows: Int.max / 2, xStride: 8), mentioning: "overflow")
        assertInvalid(block(x: y), mentioning: "same buffer")
        XCTAssertEqual(try cpu.download(y), [Float](repeating: 7, count: 20), "a failed copyBlock wrote to y")

        let gates = try cpu.makeBuffer(count: 6), values = try cpu.makeBuffer(count: 24)
        let out = try cpu.makeBuffer([Float](repeating: 7, count: 8))
        assertInvalid(.mixture(gates: gates, values: values, y: out, rows: 2, experts: 3, features: 5), mentioning: "values")
        assertInvalid(.mixture(gates: gates, values: values, y: out, rows: 2, experts: 0, features: 4), mentioning: "experts")
        assertInvalid(.mixture(gates: gates, values: values, y: values, rows: 2, experts: 3, features: 4),
                      mentioning: "same buffer")
        assertInvalid(.mixture(gates: gates, values: values, y: out, rows: 1 << 40, experts: 1 << 30, features: 1),
                      mentioning: "overflow")
        assertInvalid(.mixtureBackwardGates(values: values, dy: out, dGates: gates, rows: 2, experts: 3, features: 5),
                      mentioning: "values")
        assertInvalid(.mixtureBackwardGates(values: values, dy: out, dGates: out, rows: 2, experts: 3, features: 4),
                      mentioning: "same buffer")
        assertInvalid(.mixtureBackwardValues(gates: values, dy: out, dValues: values, rows: 2, experts: 3, features: 4),
                      mentioning: "same buffer")
        assertInvalid(.mixtureBackwardValues(gates: gates, dy: out, dValues: values, rows: 2, experts: 4, features: 3),
                      mentioning: "gates holds 6")
        XCTAssertEqual(try cpu.download(out), [Float](repeating: 7, count: 8), "a failed mixture wrote its output")
    }
}
