import CanopyCore
import XCTest

// Finite-difference checks of concatenation and slicing (copyBlock) and of the mixture of experts. All three
// operations are linear in each input, so central differences are exact up to float32 rounding.

/// The block-copy and mixture checks of ``checkAllKernelGradients(on:file:line:)``.
public func checkMixtureKernelGradients(on backend: Backend, file: StaticString = #filePath,
                                        line: UInt = #line) -> [GradientReport] {
    [
        checkConcatenationGradient(on: backend, rows: 3, widths: (2, 5), file: file, line: line),
        checkSliceGradient(on: backend, rows: 4, cols: 3, xStride: 7, xOffset: 2, file: file, line: line),
        checkMixtureGradient(on: backend, rows: 3, experts: 4, features: 5, file: file, line: line),
        checkMixtureGradient(on: backend, rows: 2, experts: 1, features: 7, file: file, line: line),
    ]
}

/// `y = [a | b]` along columns, a [rows, widths.0] and b [rows, widths.1], by two copyBlocks into y at offsets
/// 0 and widths.0; the gradient of each part is a copyBlock back out of dy.
@discardableResult
public func checkConcatenationGradient(on backend: Backend, rows: Int, widths: (Int, Int), seed: UInt64 = 13,
                                       file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let (wa, wb) = widths, width = wa + wb
    return checkGradient("concatenation \(rows)×(\(wa)+\(wb)) by copyBlock", on: backend,
                         inputs: ["a": random.floats(rows * wa), "b": random.floats(rows * wb)], wrt: ["a", "b"],
                         forward: { ctx in
        let y = try ctx.buffer("y", count: rows * width)
        try ctx.run(.copyBlock(x: try ctx["a"], y: y, rows: rows, cols: wa, xStride: wa, xOffset: 0,
                               yStride: width, yOffset: 0))
        try ctx.run(.copyBlock(x: try ctx["b"], y: y, rows: rows, cols: wb, xStride: wb, xOffset: 0,
                               yStride: width, yOffset: wa))
        return (y, rows * width)
    }, backward: { ctx, dy in
        let da = try ctx.buffer("da", count: rows * wa), db = try ctx.buffer("db", count: rows * wb)
        try ctx.run(.copyBlock(x: dy, y: da, rows: rows, cols: wa, xStride: width, xOffset: 0, yStride: wa, yOffset: 0))
        try ctx.run(.copyBlock(x: dy, y: db, rows: rows, cols: wb, xStride: width, xOffset: wa, yStride: wb, yOffset: 0))
        return ["a": da, "b": db]
    }, file: file, line: line)
}

/// `y = x[:, xOffset ..< xOffset + cols]` of an x with rows of `xStride` (a slice, as a task tower reading part
/// of a shared layer). The gradient is zero outside the slice (a fill) and dy inside it (a copyBlock back).
@discardableResult
public func checkSliceGradient(on backend: Backend, rows: Int, cols: Int, xStride: Int, xOffset: Int,
                               seed: UInt64 = 14, file: StaticString = #filePath,
                               line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let xCount = rows * xStride
    return checkGradient("slice \(rows)×\(cols) of \(rows)×\(xStride) at \(xOffset) by copyBlock", on: backend,
                         inputs: ["x": random.floats(xCount)], wrt: ["x"], forward: { ctx in
        let y = try ctx.buffer("y", count: rows * cols)
        try ctx.run(.copyBlock(x: try ctx["x"], y: y, rows: rows, cols: cols, xStride: xStride, xOffset: xOffset,
                               yStride: cols, yOffset: 0))
        return (y, rows * cols)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: xCount)
        try ctx.run(.fill(y: dx, value: 0, count: xCount))
        try ctx.run(.copyBlock(x: dy, y: dx, rows: rows, cols: cols, xStride: cols, xOffset: 0, yStride: xStride,
                               yOffset: xOffset))
        return ["x": dx]
    }, file: file, line: line)
}

/// `y[n, f] = Σ_e gates[n, e] · values[n, e, f]` with respect to the gates (mixtureBackwardGates) and the expert
/// outputs (mixtureBackwardValues).
@discardableResult
public func checkMixtureGradient(on backend: Backend, rows: Int, experts: Int, features: Int, seed: UInt64 = 15,
                                 file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    return checkGradient("mixture \(rows)×\(experts)×\(features)", on: backend,
                         inputs: ["gates": random.floats(rows * experts, in: 0...1),
                                  "values": random.floats(rows * experts * features)],
                         wrt: ["gates", "values"], forward: { ctx in
        let y = try ctx.buffer("y", count: rows * features)
        try ctx.run(.mixture(gates: try ctx["gates"], values: try ctx["values"], y: y, rows: rows, experts: experts,
                             features: features))
        return (y, rows * features)
    }, backward: { ctx, dy in
        let dGates = try ctx.buffer("dGates", count: rows * experts)
        let dValues = try ctx.buffer("dValues", count: rows * experts * features)
        try ctx.run(.mixtureBackwardGates(values: try ctx["values"], dy: dy, dGates: dGates, rows: rows,
                                          experts: experts, features: features))
        try ctx.run(.mixtureBackwardValues(gates: try ctx["gates"], dy: dy, dValues: dValues, rows: rows,
                                           experts: experts, features: features))
        return ["gates": dGates, "values": dValues]
    }, file: file, line: line)
}
