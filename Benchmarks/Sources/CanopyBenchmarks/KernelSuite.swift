import Canopy

/// One row of the kernel benchmarks: what it computes on Canopy's backends and, for matrix products and
/// convolutions, the GEMM that OpenBLAS and CLBlast run beside it (the product itself, or a convolution's
/// im2col GEMM, whose rate the convolution's GEMM-equivalent rate is compared with).
struct KernelCase {
    /// `matmul W1 dense 784→512 forward x·Wᵀ, NT 128×512×784`.
    let title: String
    /// Floating-point operations, bytes or rows of one run.
    let work: Double
    let unit: (name: String, scale: Double)
    /// The reference libraries' GEMM for this row (nil: Canopy only).
    let gemm: MatmulShape?
    /// For a convolution pass, the title of the row that runs its im2col GEMM on Canopy's own engines (the summary
    /// divides the pass's rate by that row's, per engine: issue 8's "conv ≥ 0.8× its GEMM rate").
    var ownGEMM: String? = nil
    /// Canopy's kernels for one run, on buffers made by the given function (count, scale).
    let kernels: (_ backend: Backend, _ buffer: (Int, Float) throws -> DeviceBuffer) throws -> [Kernel]

    static let gflops = ("GFLOP/s", 1e9), gbs = ("GB/s", 1e9)

    /// `NT 128×512×784` (op(A) is m×k, op(B) k×n).
    static func describe(_ s: MatmulShape) -> String {
        "\(s.transposeA ? "T" : "N")\(s.transposeB ? "T" : "N") \(s.m)×\(s.n)×\(s.k)"
    }

    static func matmul(_ title: String, _ shape: MatmulShape) -> KernelCase {
        KernelCase(title: "matmul \(title)\(title.isEmpty ? "" : ", ")\(describe(shape))",
                   work: 2 * Double(shape.m * shape.n * shape.k), unit: gflops, gemm: shape) { _, buffer in
            let a = try buffer(shape.m * shape.k, 1), b = try buffer(shape.k * shape.n, 1), c = try buffer(shape.m * shape.n, 1)
            return [.matmul(a: a, b: b, c: c, shape: shape)]
        }
    }
}

/// The kernel benchmarks of issue 8: matrix products at W1's training shapes and square sizes, W2's
/// convolutions (forward and both backward passes), softmax cross-entropy, Adam and a few memory-bound kernels.
enum KernelSuite {
    static func cases() -> [KernelCase] {
        var result: [KernelCase] = []
        // W1: MLP 784→512→256, heads 10 and 5, batch 128; dense weights are [out, in] (PyTorch's layout).
        let batch = 128
        for (inputs, outputs) in [(784, 512), (512, 256), (256, 10), (256, 5)] {
            let layer = "W1 dense \(inputs)→\(outputs)"
            result.append(.matmul("\(layer) forward x·Wᵀ", MatmulShape(m: batch, n: outputs, k: inputs, transposeB: true)))
            result.append(.matmul("\(layer) backward dX = dY·W", MatmulShape(m: batch, n: inputs, k: outputs)))
            result.append(.matmul("\(layer) backward dW = dYᵀ·x", MatmulShape(m: outputs, n: inputs, k: batch, transposeA: true)))
        }
        for side in [64, 256, 1024, 2048] {
            result.append(.matmul("", MatmulShape(m: side, n: side, k: side)))
        }
        // W2: conv 3×3 1→32 on 28×28 and 32→64 on 14×14, pad 1, batch 64.
        for (channels, sideLength, filters) in [(1, 28, 32), (32, 14, 64)] {
            let g = ConvGeometry(batch: 64, inChannels: channels, inHeight: sideLength, inWidth: sideLength,
                                 outChannels: filters, kernelHeight: 3, kernelWidth: 3, padHeight: 1, padWidth: 1)
            result += convolutions(g, name: "W2 conv 3×3 \(channels)→\(filters) on \(sideLength)×\(sideLength)")
        }
        for rows in [128, 512] {
            let classes = 10
            result.append(KernelCase(title: "softmax cross-entropy \(rows)×\(classes), forward and backward",
                                     work: Double(rows), unit: ("Mrows/s", 1e6), gemm: nil) { backend, buffer in
                let logits = try buffer(rows * classes, 8), labels = try backend.makeBuffer((0..<rows).map { Float($0 % classes) })
                let mask = try backend.makeBuffer([Float](repeating: 1, count: rows))
                let probs = try buffer(rows * classes, 1), loss = try buffer(rows, 1), dLogits = try buffer(rows * classes, 1)
                return [.softmaxCrossEntropy(logits: logits, labels: labels, mask: mask, probs: probs, rowLoss: loss, rows: rows, classes: classes),
                        .softmaxCrossEntropyBackward(probs: probs, labels: labels, mask: mask, dRowLoss: loss, dLogits: dLogits,
                                                     rows: rows, classes: classes)]
            })
        }
        let count = 1 << 20
        // Adam reads parameter, gradient, m and v and writes parameter, m and v: 28 bytes per parameter.
        result.append(KernelCase(title: "Adam update of 1M parameters", work: 28 * Double(count), unit: KernelCase.gbs,
                                 gemm: nil) { backend, buffer in
            let x = try buffer(count, 1), g = try buffer(count, 0.01), m = try buffer(count, 1)
            let v = try backend.makeBuffer([Float](repeating: 0.01, count: count))
            return [.adamUpdate(param: x, grad: g, m: m, v: v, count: count, hyper: AdamHyperparameters(learningRate: 1e-6, step: 10))]
        })
        result.append(KernelCase(title: "relu 1M elements", work: 8 * Double(count), unit: KernelCase.gbs, gemm: nil) { _, buffer in
            [.unary(.relu, x: try buffer(count, 1), y: try buffer(count, 1), count: count)]
        })
        result.append(KernelCase(title: "sum of 1M elements", work: 4 * Double(count), unit: KernelCase.gbs, gemm: nil) { _, buffer in
            [.sum(x: try buffer(count, 1), y: try buffer(count, 1), count: count)]
        })
        // A layer's activation derivative with its bias gradient (one fused kernel in training): W2's two
        // convolution outputs and W1's first dense layer. ReLU's derivative reads y and dy and writes dx.
        for (outer, channels, inner, name) in [(64, 32, 28 * 28, "W2 conv 1"), (64, 64, 14 * 14, "W2 conv 2"),
                                               (128, 512, 1, "W1 dense 512")] {
            let elements = outer * channels * inner
            result.append(KernelCase(title: "relu backward with bias gradient, \(name) [\(outer), \(channels), \(inner)]",
                                     work: 12 * Double(elements), unit: KernelCase.gbs, gemm: nil) { _, buffer in
                let y = try buffer(elements, 1), dy = try buffer(elements, 1), dx = try buffer(elements, 1)
                return [.unaryBackwardBiasGradient(.relu, x: y, y: y, dy: dy, dx: dx, dBias: try buffer(channels, 1),
                                                   outer: outer, channels: channels, inner: inner)]
            })
        }
        let (rows, experts, features) = (512, 8, 16)
        result.append(KernelCase(title: "MMoE mixture 512 rows × 8 experts × 16, forward", work: 2 * Double(rows * experts * features),
                                 unit: KernelCase.gflops, gemm: nil) { _, buffer in
            [.mixture(gates: try buffer(rows * experts, 1), values: try buffer(rows * experts * features, 1),
                      y: try buffer(rows * features, 1), rows: rows, experts: experts, features: features)]
        })
        result += gateCases(rows: 512, experts: 8, features: 64)
        return result
    }

    /// A softmax gate with its mixture at W3's sizes, forward and backward: the fused kernel the executor plans
    /// and the two calls it replaces (each pair reads the same operands), so their rates compare directly.
    static func gateCases(rows: Int, experts: Int, features: Int) -> [KernelCase] {
        let size = "\(rows) rows × \(experts) experts × \(features)"
        let work = 2 * Double(rows * experts * features)
        typealias Operands = (logits: DeviceBuffer, values: DeviceBuffer, gates: DeviceBuffer, y: DeviceBuffer)
        func operands(_ buffer: (Int, Float) throws -> DeviceBuffer) throws -> Operands {
            (try buffer(rows * experts, 1), try buffer(rows * experts * features, 1), try buffer(rows * experts, 1),
             try buffer(rows * features, 1))
        }
        return [
            KernelCase(title: "MMoE softmax gate + mixture \(size), forward, one fused kernel", work: work,
                       unit: KernelCase.gflops, gemm: nil) { _, buffer in
                let o = try operands(buffer)
                return [.mixtureSoftmax(logits: o.logits, values: o.values, gates: o.gates, y: o.y, rows: rows,
                                        experts: experts, features: features)]
            },
            KernelCase(title: "MMoE softmax gate + mixture \(size), forward, softmax then mixture", work: work,
                       unit: KernelCase.gflops, gemm: nil) { _, buffer in
                let o = try operands(buffer)
                return [.softmax(x: o.logits, y: o.gates, rows: rows, cols: experts),
                        .mixture(gates: o.gates, values: o.values, y: o.y, rows: rows, experts: experts, features: features)]
            },
            KernelCase(title: "MMoE gates gradient through the softmax \(size), one fused kernel", work: work,
                       unit: KernelCase.gflops, gemm: nil) { _, buffer in
                let o = try operands(buffer)
                return [.mixtureBackwardLogits(values: o.values, gates: o.gates, dy: o.y, dLogits: o.logits, rows: rows,
                                               experts: experts, features: features)]
            },
            KernelCase(title: "MMoE gates gradient through the softmax \(size), gates gradient then softmax backward",
                       work: work, unit: KernelCase.gflops, gemm: nil) { _, buffer in
                let o = try operands(buffer)
                let dGates = try buffer(rows * experts, 1)
                return [.mixtureBackwardGates(values: o.values, dy: o.y, dGates: dGates, rows: rows, experts: experts,
                                              features: features),
                        .softmaxBackward(y: o.gates, dy: dGates, dx: o.logits, rows: rows, cols: experts)]
            },
        ]
    }

    /// A convolution's three passes, each with the im2col GEMM it amounts to (NCHW, weight [F, C·KH·KW], the
    /// batch's columns [C·KH·KW, N·OH·OW]): forward W·cols, backward input Wᵀ·dY (then col2im), backward
    /// weight dY·colsᵀ. All three do 2·F·C·KH·KW·N·OH·OW floating-point operations. After each pass, a row with
    /// that GEMM alone on Canopy's engines (its "own GEMM", which the summary compares the pass with).
    static func convolutions(_ g: ConvGeometry, name: String) -> [KernelCase] {
        let patch = g.inChannels * g.kernelHeight * g.kernelWidth, pixels = g.batch * g.outHeight * g.outWidth
        let flops = 2 * Double(g.outChannels * patch * pixels)
        let shapes = [("forward", MatmulShape(m: g.outChannels, n: pixels, k: patch)),
                      ("backward input", MatmulShape(m: patch, n: pixels, k: g.outChannels, transposeA: true)),
                      ("backward weight", MatmulShape(m: g.outChannels, n: patch, k: pixels, transposeB: true))]
        return shapes.flatMap { pass, gemm -> [KernelCase] in
            let title = "conv2d \(pass) \(name), batch \(g.batch) (im2col GEMM \(KernelCase.describe(gemm)))"
            let own = "matmul \(KernelCase.describe(gemm)), the im2col GEMM of conv2d \(pass) \(name)"
            let convolution = KernelCase(title: title, work: flops, unit: KernelCase.gflops, gemm: gemm,
                                         ownGEMM: own) { _, buffer in
                let input = try buffer(g.inputCount, 1), weight = try buffer(g.weightCount, 1), output = try buffer(g.outputCount, 1)
                switch pass {
                case "forward": return [.conv2d(input: input, weight: weight, output: output, geometry: g)]
                case "backward input": return [.conv2dBackwardInput(dOutput: output, weight: weight, dInput: input, geometry: g)]
                default: return [.conv2dBackwardWeight(input: input, dOutput: output, dWeight: weight, geometry: g)]
                }
            }
            // Canopy only (gemm nil): the reference libraries already run this GEMM in the convolution's row.
            let product = KernelCase(title: own, work: flops, unit: KernelCase.gflops, gemm: nil) { _, buffer in
                let a = try buffer(gemm.m * gemm.k, 1), b = try buffer(gemm.k * gemm.n, 1), c = try buffer(gemm.m * gemm.n, 1)
                return [.matmul(a: a, b: b, c: c, shape: gemm)]
            }
            return [convolution, product]
        }
    }

    /// The case on a Canopy backend.
    static func benchmark(_ c: KernelCase, on backend: Backend) throws -> Benchmark {
        let kernels = try c.kernels(backend) { count, scale in
            try backend.makeBuffer((0..<count).map { Float(($0 * 7919) % 1000) / 1000 * scale - scale / 2 })
        }
        return Benchmark(title: "\(c.title), canopy \(backend.name)", work: c.work, unit: c.unit, backend: backend) {
            for kernel in kernels { try backend.execute(kernel) }
        }
    }
}
