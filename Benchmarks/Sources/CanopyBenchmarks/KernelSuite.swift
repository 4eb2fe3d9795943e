import Canopy

/// Kernel benchmarks: the same call with the same sizes on every backend, so each row's ratio compares backends.
enum KernelSuite {
    /// Groups of (title without backend, work, unit, kernel builder); each group runs on every backend.
    static func groups(on backend: Backend) throws -> [(group: String, benchmark: Benchmark)] {
        var result: [(String, Benchmark)] = []
        func buffer(_ count: Int, scale: Float = 1) throws -> DeviceBuffer {
            try backend.makeBuffer((0..<count).map { Float(($0 * 7919) % 1000) / 1000 * scale - scale / 2 })
        }
        func add(_ group: String, work: Double, unit: (String, Double), _ kernels: [Kernel]) {
            result.append((group, Benchmark(title: "\(group), \(backend.name)", work: work, unit: unit, backend: backend) {
                for kernel in kernels { try backend.execute(kernel) }
            }))
        }
        let gflops = ("GFLOP/s", 1e9), gbs = ("GB/s", 1e9)

        for (m, n, k, ta, tb) in [(64, 10, 64, false, true), (128, 512, 784, false, true), (512, 512, 512, false, false),
                                  (1024, 1024, 1024, false, false), (256, 64, 256, true, false)] {
            let a = try buffer(m * k), b = try buffer(k * n), c = try buffer(m * n)
            add("matmul \(m)×\(n)×\(k)\(ta ? " Aᵀ" : "")\(tb ? " Bᵀ" : "")", work: 2 * Double(m * n * k), unit: gflops,
                [.matmul(a: a, b: b, c: c, shape: MatmulShape(m: m, n: n, k: k, transposeA: ta, transposeB: tb))])
        }
        for (batch, channels, side, filters) in [(64, 1, 8, 16), (64, 16, 16, 32)] {
            let g = ConvGeometry(batch: batch, inChannels: channels, inHeight: side, inWidth: side, outChannels: filters,
                                 kernelHeight: 3, kernelWidth: 3, padHeight: 1, padWidth: 1)
            let input = try buffer(g.inputCount), weight = try buffer(g.weightCount), output = try buffer(g.outputCount)
            let dInput = try buffer(g.inputCount), dWeight = try buffer(g.weightCount)
            let flops = 2 * Double(g.outputCount * channels * 9)
            let shape = "\(batch)×\(channels)×\(side)×\(side) → \(filters) filters 3×3"
            add("conv2d forward \(shape)", work: flops, unit: gflops, [.conv2d(input: input, weight: weight, output: output, geometry: g)])
            add("conv2d backward (input and weight) \(shape)", work: 2 * flops, unit: gflops, [
                .conv2dBackwardInput(dOutput: output, weight: weight, dInput: dInput, geometry: g),
                .conv2dBackwardWeight(input: input, dOutput: output, dWeight: dWeight, geometry: g)])
        }
        do {
            let rows = 512, classes = 10
            let logits = try buffer(rows * classes, scale: 8), labels = try backend.makeBuffer((0..<rows).map { Float($0 % classes) })
            let mask = try backend.makeBuffer([Float](repeating: 1, count: rows))
            let probs = try buffer(rows * classes), loss = try buffer(rows), dLogits = try buffer(rows * classes)
            add("softmax cross-entropy 512×10, forward and backward", work: Double(rows), unit: ("Mrows/s", 1e6), [
                .softmaxCrossEntropy(logits: logits, labels: labels, mask: mask, probs: probs, rowLoss: loss, rows: rows, classes: classes),
                .softmaxCrossEntropyBackward(probs: probs, labels: labels, mask: mask, dRowLoss: loss, dLogits: dLogits, rows: rows, classes: classes)])
        }
        do {
            let count = 1 << 20
            let x = try buffer(count), y = try buffer(count), g = try buffer(count, scale: 0.01)
            let m = try buffer(count), v = try backend.makeBuffer([Float](repeating: 0.01, count: count))
            add("relu 1M elements", work: 8 * Double(count), unit: gbs, [.unary(.relu, x: x, y: y, count: count)])
            add("sum of 1M elements", work: 4 * Double(count), unit: gbs, [.sum(x: x, y: y, count: count)])
            add("AdamW update of 1M parameters", work: 28 * Double(count), unit: gbs, [
                .adamUpdate(param: x, grad: g, m: m, v: v, count: count, hyper: AdamHyperparameters(learningRate: 1e-6, step: 10))])
        }
        do {
            let rows = 512, experts = 8, features = 16
            let gates = try buffer(rows * experts), values = try buffer(rows * experts * features), y = try buffer(rows * features)
            add("MMoE mixture 512 rows × 8 experts × 16, forward", work: 2 * Double(rows * experts * features),
                unit: gflops, [.mixture(gates: gates, values: values, y: y, rows: rows, experts: experts, features: features)])
        }
        return result
    }
}
