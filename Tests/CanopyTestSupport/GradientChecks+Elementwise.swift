import CanopyCore

// Gradient checks of the losses, the element-wise kernels and dropout. See GradientChecks.swift.

/// softmaxCrossEntropy's row losses with respect to the logits; rows 1 and 4 are unlabelled (their gradient must
/// be 0, and so must the central difference).
@discardableResult
public func checkSoftmaxCrossEntropyGradient(on backend: Backend, rows: Int, classes: Int, seed: UInt64 = 6,
                                             file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let (labels, mask) = KernelCalls.labelsAndMask(rows: rows, classes: classes, random: &random)
    let count = rows * classes
    return checkGradient("softmaxCrossEntropy \(rows)×\(classes) masked", on: backend,
                         inputs: ["logits": random.floats(count, in: -3...3), "labels": labels, "mask": mask],
                         wrt: ["logits"], forward: { ctx in
        let probs = try ctx.buffer("probs", count: count), rowLoss = try ctx.buffer("rowLoss", count: rows)
        try ctx.run(.softmaxCrossEntropy(logits: try ctx["logits"], labels: try ctx["labels"], mask: try ctx["mask"],
                                         probs: probs, rowLoss: rowLoss, rows: rows, classes: classes))
        return (rowLoss, rows)
    }, backward: { ctx, dy in
        let dLogits = try ctx.buffer("dLogits", count: count)
        try ctx.run(.softmaxCrossEntropyBackward(probs: try ctx["probs"], labels: try ctx["labels"],
                                                 mask: try ctx["mask"], dRowLoss: dy, dLogits: dLogits,
                                                 rows: rows, classes: classes))
        return ["logits": dLogits]
    }, file: file, line: line)
}

/// maskedMean's loss with respect to the row losses; rows 1 and 4 masked. As in a real loss, the row losses
/// reaching maskedMean are already masked (here by a binary multiply with the mask), which is what makes the
/// kernel's gradient `dLoss·mask/count` exact for masked rows too.
@discardableResult
public func checkMaskedMeanGradient(on backend: Backend, rows: Int, seed: UInt64 = 8,
                                    file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let (_, mask) = KernelCalls.labelsAndMask(rows: rows, classes: 1, random: &random)
    return checkGradient("maskedMean \(rows) masked", on: backend,
                         inputs: ["rowLoss": random.floats(rows, in: 0...2), "mask": mask],
                         wrt: ["rowLoss"], forward: { ctx in
        let masked = try ctx.buffer("masked", count: rows)
        let loss = try ctx.buffer("loss", count: 1), labelled = try ctx.buffer("count", count: 1)
        try ctx.run(.binary(.multiply, a: try ctx["rowLoss"], b: try ctx["mask"], y: masked, count: rows))
        try ctx.run(.maskedMean(rowLoss: masked, mask: try ctx["mask"], loss: loss, count: labelled, rows: rows))
        return (loss, 1)
    }, backward: { ctx, dy in
        let dRowLoss = try ctx.buffer("dRowLoss", count: rows)
        try ctx.run(.maskedMeanBackward(dLoss: dy, mask: try ctx["mask"], count: try ctx["count"],
                                        dRowLoss: dRowLoss, rows: rows))
        return ["rowLoss": dRowLoss]
    }, file: file, line: line)
}

/// `y = f(x)` through unaryBackward; relu inputs have |x| ≥ 0.1, others lie in [-3, 3].
@discardableResult
public func checkUnaryGradient(_ function: UnaryFunction, on backend: Backend, count: Int, seed: UInt64 = 9,
                               file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let x = function == .relu ? random.floatsAwayFromZero(count) : random.floats(count, in: -3...3)
    return checkGradient("unary.\(function.rawValue) \(count)", on: backend, inputs: ["x": x], wrt: ["x"],
                         forward: { ctx in
        let y = try ctx.buffer("y", count: count)
        try ctx.run(.unary(function, x: try ctx["x"], y: y, count: count))
        return (y, count)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: count)
        try ctx.run(.unaryBackward(function, x: try ctx["x"], y: try ctx["y"], dy: dy, dx: dx, count: count))
        return ["x": dx]
    }, file: file, line: line)
}

/// `y = a ∘ b`: add passes dy to both (copy), subtract negates it for b (scale −1), multiply swaps factors.
@discardableResult
public func checkBinaryGradient(_ function: BinaryFunction, on backend: Backend, count: Int, seed: UInt64 = 10,
                                file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    return checkGradient("binary.\(function.rawValue) \(count)", on: backend,
                         inputs: ["a": random.floats(count), "b": random.floats(count)], wrt: ["a", "b"],
                         forward: { ctx in
        let y = try ctx.buffer("y", count: count)
        try ctx.run(.binary(function, a: try ctx["a"], b: try ctx["b"], y: y, count: count))
        return (y, count)
    }, backward: { ctx, dy in
        let da = try ctx.buffer("da", count: count), db = try ctx.buffer("db", count: count)
        switch function {
        case .add:
            try ctx.run(.copy(x: dy, y: da, count: count))
            try ctx.run(.copy(x: dy, y: db, count: count))
        case .subtract:
            try ctx.run(.copy(x: dy, y: da, count: count))
            try ctx.run(.scale(x: dy, y: db, alpha: -1, count: count))
        case .multiply:
            try ctx.run(.binary(.multiply, a: dy, b: try ctx["b"], y: da, count: count))
            try ctx.run(.binary(.multiply, a: dy, b: try ctx["a"], y: db, count: count))
        }
        return ["a": da, "b": db]
    }, file: file, line: line)
}

/// `y = α·x`, so `dx = α·dy` (scale again).
@discardableResult
public func checkScaleGradient(on backend: Backend, count: Int, alpha: Float, seed: UInt64 = 11,
                               file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    return checkGradient("scale \(count) α=\(alpha)", on: backend, inputs: ["x": random.floats(count)], wrt: ["x"],
                         forward: { ctx in
        let y = try ctx.buffer("y", count: count)
        try ctx.run(.scale(x: try ctx["x"], y: y, alpha: alpha, count: count))
        return (y, count)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: count)
        try ctx.run(.scale(x: dy, y: dx, alpha: alpha, count: count))
        return ["x": dx]
    }, file: file, line: line)
}

/// Dropout with a fixed seed: the mask does not depend on x, so `dx = mask ⊙ dy` (binary multiply).
@discardableResult
public func checkDropoutGradient(on backend: Backend, count: Int, probability: Float, seed: UInt32 = 1234,
                                 file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: 12)
    return checkGradient("dropout \(count) p=\(probability)", on: backend, inputs: ["x": random.floats(count)],
                         wrt: ["x"], forward: { ctx in
        let y = try ctx.buffer("y", count: count), mask = try ctx.buffer("mask", count: count)
        try ctx.run(.dropout(x: try ctx["x"], y: y, mask: mask, probability: probability, seed: seed, count: count))
        return (y, count)
    }, backward: { ctx, dy in
        let dx = try ctx.buffer("dx", count: count)
        try ctx.run(.binary(.multiply, a: try ctx["mask"], b: dy, y: dx, count: count))
        return ["x": dx]
    }, file: file, line: line)
}
