import CanopyCore
import CanopyCPU
import CanopyTestSupport
import Foundation
import XCTest

/// Pooling, softmax and the losses against naive references, at extreme inputs and with masked rows.
final class PoolingSoftmaxLossTests: XCTestCase {
    let cpu = CPUBackend()

    func testMaxPoolAgainstNaive() throws {
        for g in KernelCalls.poolGeometries + [PoolGeometry(batch: 3, channels: 4, inHeight: 11, inWidth: 7,
                                                            kernel: 3, stride: 3)] {
            var random = TestRandom(seed: 3)
            // Values from a small set, so windows contain ties: the first maximum must win.
            let x = (0..<g.inputCount).map { _ in Float(random.int(below: 4)) }
            let call = KernelCall("maxPool", buffers: ["x": x, "y": .nan(g.outputCount), "i": .nan(g.outputCount)],
                                  outputs: ["y", "i"]) {
                .maxPool(input: try $0["x"], output: try $0["y"], indices: try $0["i"], geometry: g)
            }
            let result = try call.run(on: cpu)
            let (y, indices) = Naive.maxPool(x, g)
            assertClose(result["y"]!, y, tolerance: .exact, "maxPool values")
            assertClose(result["i"]!, indices, tolerance: .exact, "maxPool indices (first maximum on ties)")

            // Backward: dInput starts as NaN and must be overwritten: zero, plus scattered sums.
            let dy = random.floats(g.outputCount)
            var expected = [Float](repeating: 0, count: g.inputCount)
            let plane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
            for o in 0..<g.outputCount { expected[(o / outPlane) * plane + Int(indices[o])] += dy[o] }
            let backward = KernelCall("maxPoolBackward", buffers: ["dy": dy, "i": indices, "dx": .nan(g.inputCount)],
                                      outputs: ["dx"]) {
                .maxPoolBackward(dOutput: try $0["dy"], indices: try $0["i"], dInput: try $0["dx"], geometry: g)
            }
            assertClose(try backward.run(on: cpu)["dx"]!, expected, tolerance: .float32, "maxPoolBackward")
        }
    }

    func testSoftmaxWithLargeLogitsStaysFinite() throws {
        let cols = 5
        let x: [Float] = [1e4, 1e4 - 1, -1e4, 0, 1e4 - 3, -1e4, -1e4 + 2, -1e4, -1e4 + 0.5, -1e4 - 30]
        for log in [false, true] {
            let call = KernelCall("softmax", buffers: ["x": x, "y": .nan(x.count)], outputs: ["y"]) {
                log ? .logSoftmax(x: try $0["x"], y: try $0["y"], rows: 2, cols: cols)
                    : .softmax(x: try $0["x"], y: try $0["y"], rows: 2, cols: cols)
            }
            let y = try call.run(on: cpu)["y"]!
            var expected: [Float] = []
            for row in 0..<2 {
                let r = x[row * cols..<(row + 1) * cols].map(Double.init)
                let m = r.max()!, logTotal = Foundation.log(r.reduce(0) { $0 + Foundation.exp($1 - m) })
                expected += r.map { log ? Float($0 - m - logTotal) : Float(Foundation.exp($0 - m - logTotal)) }
            }
            XCTAssertTrue(y.allSatisfy(\.isFinite), "\(log ? "log" : "")softmax of ±1e4 logits: \(y)")
            let d = assertClose(y, expected, tolerance: .float32, "\(log ? "logSoftmax" : "softmax") of ±1e4 logits")
            print("\(log ? "logSoftmax" : "softmax") with logits ±1e4: \(d)")
        }
    }

    /// Cross-entropy of ±1e4 logits: the loss of a label just below the maximum is small and exact, not lost in
    /// the rounding of 1e4 + log Σ.
    func testSoftmaxCrossEntropyWithLargeLogits() throws {
        let logits: [Float] = [1e4, 1e4 - 1, 1e4 - 0.25, 1e4]
        let call = KernelCall("sce", buffers: ["z": logits, "labels": [1, 0], "mask": [1, 1], "probs": .nan(4),
                                              "loss": .nan(2)], outputs: ["loss", "probs"]) {
            .softmaxCrossEntropy(logits: try $0["z"], labels: try $0["labels"], mask: try $0["mask"],
                                 probs: try $0["probs"], rowLoss: try $0["loss"], rows: 2, classes: 2)
        }
        let result = try call.run(on: cpu)
        let row0 = Foundation.log(1 + Foundation.exp(-1.0)) + 1, row1 = Foundation.log(1 + Foundation.exp(-0.25)) + 0.25
        let d = assertClose(result["loss"]!, [Float(row0), Float(row1)], tolerance: .float32, "cross-entropy at ±1e4")
        XCTAssertTrue(result["probs"]!.allSatisfy(\.isFinite))
        print("softmaxCrossEntropy with logits ±1e4: \(d)")
    }

    func testBinaryCrossEntropyWithLargeLogits() throws {
        let z: [Float] = [100, -100, 1e4, -1e4, 30, -30, 0, 1e-3]
        let t: [Float] = [0, 1, 0, 1, 1, 0, 0.5, 1]
        let call = KernelCall("bce", buffers: ["z": z, "t": t, "mask": [1, 1, 1, 1, 1, 1, 1, 1], "loss": .nan(8),
                                              "dz": .nan(8), "d": [Float](repeating: 1, count: 8)],
                              outputs: ["loss"]) {
            .binaryCrossEntropy(logits: try $0["z"], targets: try $0["t"], mask: try $0["mask"],
                                rowLoss: try $0["loss"], rows: 8, cols: 1, posWeight: 1)
        }
        let loss = try call.run(on: cpu)["loss"]!
        let expected = zip(z, t).map { (z: Float, t: Float) -> Float in
            let zd = Double(z), td = Double(t)
            let smooth: Double = Foundation.log1p(Foundation.exp(-abs(zd)))
            return Float(max(zd, 0) - zd * td + smooth)
        }
        print("bce with |z| up to 1e4: \(assertClose(loss, expected, tolerance: .float32, "bce large logits"))")

        var backward = call
        backward.outputs = ["dz"]
        backward.makeKernel = {
            .binaryCrossEntropyBackward(logits: try $0["z"], targets: try $0["t"], mask: try $0["mask"],
                                        dRowLoss: try $0["d"], dLogits: try $0["dz"], rows: 8, cols: 1, posWeight: 1)
        }
        let dz = try backward.run(on: cpu)["dz"]!
        let expectedGradient = zip(z, t).map { (z: Float, t: Float) -> Float in
            let sigmoid: Double = 1 / (1 + Foundation.exp(-Double(z)))
            return Float(sigmoid - Double(t))
        }
        assertClose(dz, expectedGradient, tolerance: .float32, "bce gradient at large logits")
    }

    /// Unlabelled rows (mask 0) with NaN labels and garbage logits give loss 0 and gradient 0, and do not
    /// change the masked mean.
    func testMaskedRowsContributeNothing() throws {
        var random = TestRandom(seed: 11)
        let rows = 6, classes = 4
        var logits = random.floats(rows * classes, in: -3...3)
        var labels = random.labels(rows, classes: classes)
        let mask: [Float] = [1, 0, 1, 1, 0, 1]
        func lossAndGradient() throws -> (rowLoss: [Float], mean: Float, dLogits: [Float]) {
            let buffers = try [logits, labels, mask].map { try cpu.makeBuffer($0) }
            let probs = try cpu.makeBuffer(count: rows * classes), rowLoss = try cpu.makeBuffer(count: rows)
            let loss = try cpu.makeBuffer(count: 1), count = try cpu.makeBuffer(count: 1)
            let dLoss = try cpu.makeBuffer([1]), dRowLoss = try cpu.makeBuffer(count: rows)
            let dLogits = try cpu.makeBuffer(count: rows * classes)
            try cpu.execute(.softmaxCrossEntropy(logits: buffers[0], labels: buffers[1], mask: buffers[2],
                                                 probs: probs, rowLoss: rowLoss, rows: rows, classes: classes))
            try cpu.execute(.maskedMean(rowLoss: rowLoss, mask: buffers[2], loss: loss, count: count, rows: rows))
            XCTAssertEqual(try cpu.download(count), [4])
            try cpu.execute(.maskedMeanBackward(dLoss: dLoss, mask: buffers[2], count: count, dRowLoss: dRowLoss,
                                                rows: rows))
            try cpu.execute(.softmaxCrossEntropyBackward(probs: probs, labels: buffers[1], mask: buffers[2],
                                                         dRowLoss: dRowLoss, dLogits: dLogits, rows: rows,
                                                         classes: classes))
            return (try cpu.download(rowLoss), try cpu.download(loss)[0], try cpu.download(dLogits))
        }
        let clean = try lossAndGradient()
        for row in [1, 4] {
            labels[row] = .nan
            for j in 0..<classes { logits[row * classes + j] = 1e30 * Float(j + 1) }
        }
        let dirty = try lossAndGradient()
        XCTAssertEqual(dirty.rowLoss[1], 0); XCTAssertEqual(dirty.rowLoss[4], 0)
        XCTAssertEqual(clean.mean, dirty.mean, "changing unlabelled rows changed the mean loss")
        XCTAssertEqual(Array(dirty.dLogits[4..<8]), [0, 0, 0, 0])
        XCTAssertEqual(Array(dirty.dLogits[16..<20]), [0, 0, 0, 0])
        assertClose(dirty.dLogits, clean.dLogits, tolerance: .exact, "gradient with garbage in unlabelled rows")

        // The mean is over labelled rows: Σ rowLoss / 4, with loss_i = logsumexp − logit[label].
        var expected = 0.0
        for row in [0, 2, 3, 5] {
            let r = logits[row * classes..<(row + 1) * classes].map(Double.init)
            expected += Foundation.log(r.map(Foundation.exp).reduce(0, +)) - r[Int(labels[row])]
        }
        XCTAssertEqual(Double(clean.mean), expected / 4, accuracy: 1e-5)
    }

    /// Every row loss against PyTorch's formulas in double precision (`BCEWithLogitsLoss(pos_weight)` as
    /// `−[w·t·log σ(z) + (1−t)·log(1−σ(z))]`, `MSELoss`, `L1Loss`, `HuberLoss(delta)`), and its gradient against
    /// their derivatives.
    func testRowLossesAgainstNaive() throws {
        for loss in RowLossUnderTest.all {
            let call = KernelCalls.rowLoss(loss, rows: 7, cols: 33, seed: 4)
            let p = call.values("p"), t = call.values("t"), mask = call.values("mask")
            var expected: [Float] = []
            for row in 0..<7 {
                var total = 0.0
                for j in row * 33..<(row + 1) * 33 { total += NaiveLoss.value(loss, Double(p[j]), Double(t[j])) }
                expected.append(Float(Double(mask[row]) * total / 33))
            }
            let d = assertClose(try call.run(on: cpu)["rowLoss"]!, expected, tolerance: .float32, call.name)
            print("\(call.name) vs naive: \(d)")

            let backward = KernelCalls.rowLossBackward(loss, rows: 7, cols: 33, seed: 4)
            let bp = backward.values("p"), bt = backward.values("t"), dRow = backward.values("dRowLoss")
            let expectedGradient = (0..<7 * 33).map { e -> Float in
                let row = e / 33
                let factor: Double = Double(dRow[row]) * Double(mask[row]) / 33
                return Float(factor * NaiveLoss.derivative(loss, Double(bp[e]), Double(bt[e])))
            }
            let g = assertClose(try backward.run(on: cpu)["dp"]!, expectedGradient, tolerance: .float32, backward.name)
            print("\(backward.name) vs naive: \(g)")
        }
    }

    /// With weight 1 binary cross-entropy is the plain loss's Float expression bit for bit, and mean squared error
    /// keeps its expression and factor order (one column, so no summation order enters).
    func testUnweightedLossesKeepTheirNumbersExactly() throws {
        var random = TestRandom(seed: 21)
        let rows = 64
        let z = random.floats(rows, in: -20...20), t = random.floats(rows, in: 0...1), d = random.floats(rows)
        let mask = (0..<rows).map { Float($0 % 5 == 0 ? 0 : 1) }
        typealias Buffers = (z: DeviceBuffer, t: DeviceBuffer, m: DeviceBuffer, d: DeviceBuffer, loss: DeviceBuffer,
                             gradient: DeviceBuffer)
        func run(_ kernels: (Buffers) -> [Kernel]) throws -> (loss: [Float], gradient: [Float]) {
            let b = try [z, t, mask, d].map { try cpu.makeBuffer($0) }
            let buffers = (b[0], b[1], b[2], b[3], try cpu.makeBuffer(count: rows), try cpu.makeBuffer(count: rows))
            for call in kernels(buffers) { try cpu.execute(call) }
            return (try cpu.download(buffers.4), try cpu.download(buffers.5))
        }
        let bce = try run { b in [
            .binaryCrossEntropy(logits: b.z, targets: b.t, mask: b.m, rowLoss: b.loss, rows: rows, cols: 1, posWeight: 1),
            .binaryCrossEntropyBackward(logits: b.z, targets: b.t, mask: b.m, dRowLoss: b.d, dLogits: b.gradient,
                                        rows: rows, cols: 1, posWeight: 1)] }
        let mse = try run { b in [
            .regressionLoss(.meanSquaredError, predictions: b.z, targets: b.t, mask: b.m, rowLoss: b.loss, rows: rows,
                            cols: 1),
            .regressionLossBackward(.meanSquaredError, predictions: b.z, targets: b.t, mask: b.m, dRowLoss: b.d,
                                    dPredictions: b.gradient, rows: rows, cols: 1)] }
        for i in 0..<rows where mask[i] != 0 {
            let plain = max(z[i], 0) - z[i] * t[i] + log1pf(expf(-abs(z[i])))
            let sigmoid = z[i] >= 0 ? 1 / (1 + expf(-z[i])) : expf(z[i]) / (1 + expf(z[i]))
            XCTAssertEqual(bce.loss[i].bitPattern, (mask[i] / Float(1) * plain).bitPattern, "bce loss \(i)")
            XCTAssertEqual(bce.gradient[i].bitPattern, (d[i] * mask[i] / Float(1) * (sigmoid - t[i])).bitPattern, "bce ∂ \(i)")
            let difference = z[i] - t[i]
            XCTAssertEqual(mse.loss[i].bitPattern, (mask[i] / Float(1) * (difference * difference)).bitPattern, "mse \(i)")
            XCTAssertEqual(mse.gradient[i].bitPattern, (d[i] * mask[i] * 2 / Float(1) * difference).bitPattern, "mse ∂ \(i)")
        }
    }

    func testUnaryFunctionsAgainstDoublePrecision() throws {
        for function in UnaryFunction.allCases {
            let call = KernelCalls.unary(function, count: 129, seed: 8)
            let expected = call.values("x").map { Float(KernelCalls.referenceUnary(function, Double($0))) }
            let d = assertClose(try call.run(on: cpu)["y"]!, expected, tolerance: Tolerance(absolute: 1e-6, relative: 1e-5),
                                call.name)
            print("\(call.name) vs double: \(d)")
        }
        // Sigmoid saturates without overflow or NaN.
        let extreme = KernelCall("sigmoid extremes", buffers: ["x": [-1e4, -100, 100, 1e4], "y": .nan(4)],
                                 outputs: ["y"]) { .unary(.sigmoid, x: try $0["x"], y: try $0["y"], count: 4) }
        assertClose(try extreme.run(on: cpu)["y"]!, [0, Float(Foundation.exp(-100.0)), 1, 1], tolerance: .float32,
                    "sigmoid at ±1e4")
    }
}
