import CanopyCore

/// What a gradient reversal did to the gradients of one small two-layer graph, compared with the same graph
/// without it: `x → dense → tanh → [gradient_reversal λ] → dense → mse`.
public struct ReversalCheck: CustomStringConvertible {
    /// Largest |difference| of the loss and the head's output between the two graphs (the forward pass).
    public var forward: Float
    /// Largest |difference| of the head weight's gradient (after the reversal, so unchanged).
    public var head: Float
    /// Largest |g_reversed − (−λ·factor·g_plain)| over the trunk weight's gradient (before the reversal).
    public var trunk: Float
    /// Largest |g_reversed − (−λ·g_plain)·factor| over the gradient of the reversal's input, computed on the host
    /// in the backward pass's order (so 0 when the layer is exact, whatever λ and factor).
    public var input: Float
    /// Largest |g_reversed − (−λ·finite difference)| over sampled trunk weights, relative to the difference.
    public var finiteDifference: Float
    /// The largest |trunk gradient| without the reversal (to show the check is not comparing zeros).
    public var trunkScale: Float

    public var description: String {
        "forward \(forward), head \(head), trunk \(trunk), input \(input), finite difference \(finiteDifference) (scale \(trunkScale))"
    }
}

/// Runs `x → dense → tanh → gradient_reversal(λ) → dense → mse` and the same graph without the reversal on
/// `backend` with equal parameters and data, and reports how their forward values and gradients differ (see
/// ``ReversalCheck``); the trunk's reversed gradient is also checked against central differences of the loss.
/// With a `factor`, the reversal reads it from a [1] input (a schedule's value at some step): the backward pass is
/// then `−λ·factor·dy`.
public func checkGradientReversal(on backend: Backend, lambda: Float, factor: Float? = nil,
                                  seed: UInt64 = 21) throws -> ReversalCheck {
    let (rows, features, hidden, outputs) = (5, 4, 6, 3)
    var random = TestRandom(seed: seed)
    func values(_ count: Int) -> [Float] { (0..<count).map { _ in random.float(in: -1...1) } }
    let inputs: [String: [Float]] = ["x": values(rows * features), "targets": values(rows * outputs),
                                     "mask": [1, 1, 0, 1, 1], "seed": [1], "factor": [factor ?? 1]]
    let initial: [String: [Float]] = ["trunk": values(hidden * features), "head": values(outputs * hidden)]

    struct Run {
        var loss: Float; var output: [Float]; var trunk: [Float]; var head: [Float]; var input: [Float]; var fd: [Int: Float]
    }
    func run(reversed: Bool) throws -> Run {
        let g = Graph()
        let x = g.input("x", shape: [rows, features])
        let trunk = g.parameter("trunk", shape: [hidden, features], initializer: .zeros)
        let head = g.parameter("head", shape: [outputs, hidden], initializer: .zeros)
        let trunkOutput = g.unary(.tanh, try g.matmul(x, trunk, transposeB: true))
        let h = !reversed ? trunkOutput
            : try g.gradientReversal(trunkOutput, lambda: lambda, factor: factor.map { _ in g.input("factor", shape: [1]) })
        let output = try g.matmul(h, head, transposeB: true)
        let targets = g.input("targets", shape: [rows, outputs]), mask = g.input("mask", shape: [rows])
        let loss = try g.maskedMean(try g.meanSquaredError(predictions: output, targets: targets, mask: mask), mask: mask).loss
        let gradients = try Autodiff.gradients(of: [(loss, g.input("seed", shape: [1]))], withRespectTo: g.parameters + [trunkOutput], in: g)
        let store = try ParameterStore(graph: g, backend: backend)
        try store.load(initial)
        let executor = try Executor(graph: g, backend: backend, parameters: store,
                                    outputs: [loss, output, gradients[trunk]!, gradients[head]!, gradients[trunkOutput]!],
                                    mode: .training)
        for (name, values) in inputs where executor.inputNames.contains(name) { try executor.setInput(name, values) }
        try executor.run()
        var result = Run(loss: try executor.read(loss)[0], output: try executor.read(output),
                         trunk: try executor.read(gradients[trunk]!), head: try executor.read(gradients[head]!),
                         input: try executor.read(gradients[trunkOutput]!), fd: [:])
        guard reversed else { return result }
        let step: Float = 1e-2
        for index in stride(from: 0, to: hidden * features, by: 5) {
            var moved = initial["trunk"]!
            moved[index] += step
            try store.load(["trunk": moved])
            try executor.run()
            let plus = try executor.read(loss)[0]
            moved[index] -= 2 * step
            try store.load(["trunk": moved])
            try executor.run()
            let minus = try executor.read(loss)[0]
            result.fd[index] = (plus - minus) / (2 * step)
        }
        return result
    }

    let plain = try run(reversed: false), reversed = try run(reversed: true)
    func largest(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }
    let k = lambda * (factor ?? 1)
    let finite = reversed.fd.map { index, numeric in
        abs(reversed.trunk[index] + k * numeric) / max(abs(k * numeric), 1e-2)
    }.max() ?? .infinity
    return ReversalCheck(forward: max(abs(plain.loss - reversed.loss), largest(plain.output, reversed.output)),
                         head: largest(plain.head, reversed.head),
                         trunk: largest(reversed.trunk, plain.trunk.map { -lambda * (factor ?? 1) * $0 }),
                         input: largest(reversed.input, plain.input.map { dy in factor.map { (-lambda * dy) * $0 } ?? -lambda * dy }),
                         finiteDifference: finite, trunkScale: plain.trunk.map(abs).max() ?? 0)
}
