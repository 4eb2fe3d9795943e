import CanopyCore
import Foundation

// The row losses that compare a prediction with a target of its shape — binary cross-entropy (with a positive
// weight) and the regression losses — as standard calls and finite-difference gradient checks.

/// One row loss under test: binary cross-entropy with a positive weight, or a regression loss.
public enum RowLossUnderTest: Sendable {
    case binaryCrossEntropy(posWeight: Float)
    case regression(RegressionLoss)

    /// Every kernel and setting the standard calls cover: both branches of binary cross-entropy's weight and each
    /// regression function (Huber with a δ inside the differences' range, so both of its branches run).
    public static let all: [RowLossUnderTest] = [
        .binaryCrossEntropy(posWeight: 1), .binaryCrossEntropy(posWeight: 3),
        .regression(.meanSquaredError), .regression(.l1), .regression(.huber(delta: 0.7)),
    ]

    /// `binaryCrossEntropy`, `binaryCrossEntropy w=3`, `regressionLoss.huber δ=0.7`, ...
    public var name: String {
        switch self {
        case let .binaryCrossEntropy(w): return "binaryCrossEntropy" + (w == 1 ? "" : " w=\(w)")
        case let .regression(.huber(delta)): return "regressionLoss.huber δ=\(delta)"
        case let .regression(function): return "regressionLoss.\(function.name)"
        }
    }

    var isBinary: Bool {
        if case .binaryCrossEntropy = self { return true }
        return false
    }

    /// The forward kernel.
    public func forward(_ p: DeviceBuffer, _ t: DeviceBuffer, _ mask: DeviceBuffer, rowLoss: DeviceBuffer,
                        rows: Int, cols: Int) -> Kernel {
        switch self {
        case let .binaryCrossEntropy(w):
            return .binaryCrossEntropy(logits: p, targets: t, mask: mask, rowLoss: rowLoss, rows: rows, cols: cols,
                                       posWeight: w)
        case let .regression(function):
            return .regressionLoss(function, predictions: p, targets: t, mask: mask, rowLoss: rowLoss, rows: rows, cols: cols)
        }
    }

    /// The backward kernel.
    public func backward(_ p: DeviceBuffer, _ t: DeviceBuffer, _ mask: DeviceBuffer, dRowLoss: DeviceBuffer,
                         dp: DeviceBuffer, rows: Int, cols: Int) -> Kernel {
        switch self {
        case let .binaryCrossEntropy(w):
            return .binaryCrossEntropyBackward(logits: p, targets: t, mask: mask, dRowLoss: dRowLoss, dLogits: dp,
                                               rows: rows, cols: cols, posWeight: w)
        case let .regression(function):
            return .regressionLossBackward(function, predictions: p, targets: t, mask: mask, dRowLoss: dRowLoss,
                                           dPredictions: dp, rows: rows, cols: cols)
        }
    }
}

extension KernelCalls {
    /// Binary cross-entropy (logits in [-30, 30], targets in [0, 1]) or a regression loss (both in [-2, 2]); rows
    /// 1 and 4 masked.
    public static func rowLoss(_ loss: RowLossUnderTest, rows: Int, cols: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let (_, mask) = labelsAndMask(rows: rows, classes: 1, random: &random)
        let count = rows * cols, bce = loss.isBinary
        return KernelCall("\(loss.name) \(rows)×\(cols)", buffers: ["p": random.floats(count, in: bce ? -30...30 : -2...2),
                          "t": random.floats(count, in: bce ? 0...1 : -2...2), "mask": mask, "rowLoss": .nan(rows)],
                          outputs: ["rowLoss"]) {
            loss.forward(try $0["p"], try $0["t"], try $0["mask"], rowLoss: try $0["rowLoss"], rows: rows, cols: cols)
        }
    }

    public static func rowLossBackward(_ loss: RowLossUnderTest, rows: Int, cols: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let (_, mask) = labelsAndMask(rows: rows, classes: 1, random: &random)
        let count = rows * cols, bce = loss.isBinary
        return KernelCall("\(loss.name) backward \(rows)×\(cols)", buffers: [
                          "p": random.floats(count, in: bce ? -30...30 : -2...2),
                          "t": random.floats(count, in: bce ? 0...1 : -2...2), "mask": mask,
                          "dRowLoss": random.floats(rows), "dp": .nan(count)], outputs: ["dp"]) {
            loss.backward(try $0["p"], try $0["t"], try $0["mask"], dRowLoss: try $0["dRowLoss"], dp: try $0["dp"],
                          rows: rows, cols: cols)
        }
    }
}

/// A row loss's gradient with respect to its first argument; rows 1 and 4 masked. Binary cross-entropy gets
/// logits in [-3, 3] and targets in [0, 1]; a regression loss targets whose difference from the prediction is
/// at least 0.1 in size and 0.05 away from Huber's δ (the kinks), more than twice the step.
@discardableResult
public func checkRowLossGradient(on backend: Backend, _ loss: RowLossUnderTest, rows: Int, cols: Int,
                                 seed: UInt64 = 7, file: StaticString = #filePath,
                                 line: UInt = #line) -> GradientReport {
    var random = TestRandom(seed: seed)
    let (_, mask) = KernelCalls.labelsAndMask(rows: rows, classes: 1, random: &random)
    let count = rows * cols
    let p = random.floats(count, in: -3...3)
    let targets: [Float]
    switch loss {
    case .binaryCrossEntropy: targets = random.floats(count, in: 0...1)
    case let .regression(function):
        var delta: Float = .infinity
        if case let .huber(d) = function { delta = d }
        let differences = random.floatsAwayFromZero(count, minimum: 0.1, maximum: 1.5).map {
            abs(abs($0) - delta) < 0.05 ? $0 * 1.2 : $0
        }
        targets = zip(p, differences).map { $0 - $1 }
    }
    return checkGradient("\(loss.name) \(rows)×\(cols) masked", on: backend,
                         inputs: ["p": p, "t": targets, "mask": mask], wrt: ["p"], forward: { ctx in
        let rowLoss = try ctx.buffer("rowLoss", count: rows)
        try ctx.run(loss.forward(try ctx["p"], try ctx["t"], try ctx["mask"], rowLoss: rowLoss, rows: rows, cols: cols))
        return (rowLoss, rows)
    }, backward: { ctx, dy in
        let dp = try ctx.buffer("dp", count: count)
        try ctx.run(loss.backward(try ctx["p"], try ctx["t"], try ctx["mask"], dRowLoss: dy, dp: dp, rows: rows, cols: cols))
        return ["p": dp]
    }, file: file, line: line)
}
