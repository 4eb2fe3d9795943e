import CanopyCore
import CanopyCPU
import XCTest

/// Checks autodiff end to end: the gradients the backward graph computes against central finite differences of
/// the forward graph, on the CPU backend, for graphs that use every differentiable op.
final class GraphGradientTests: XCTestCase {
    /// A small two-task model: conv → gelu → maxpool → flatten → dense → tanh, then a cross-entropy head and a
    /// regression head reading the same trunk (so the trunk's gradient is a sum of two).
    func testTwoTaskConvolutionalModelGradientsMatchFiniteDifferences() throws {
        let g = Graph()
        let batch = 3
        let x = g.input("x", shape: [batch, 2, 6, 5])
        let w1 = g.parameter("conv.weight", shape: [3, 2, 3, 3], initializer: .heUniform(fanIn: 18))
        let b1 = g.parameter("conv.bias", shape: [3], initializer: .constant(0.1))
        var h = try g.biasAdd(try g.conv2d(x, w1, stride: 1, padding: 1), b1)
        h = g.unary(.gelu, h)
        h = try g.maxPool(h, kernel: 2, stride: 2)
        h = try g.flatten(h)
        let w2 = g.parameter("dense.weight", shape: [5, g.shape(of: h)[1]], initializer: .heUniform(fanIn: 18))
        let b2 = g.parameter("dense.bias", shape: [5], initializer: .constant(-0.05))
        h = g.unary(.tanh, try g.biasAdd(try g.matmul(h, w2, transposeB: true), b2))

        let wc = g.parameter("class.weight", shape: [4, 5], initializer: .glorotUniform(fanIn: 5, fanOut: 4))
        let logits = try g.matmul(h, wc, transposeB: true)
        let labels = g.input("labels", shape: [batch]), mask = g.input("mask", shape: [batch])
        let ce = try g.softmaxCrossEntropy(logits: logits, labels: labels, mask: mask)
        let loss1 = try g.maskedMean(ce.rowLoss, mask: mask).loss

        let wr = g.parameter("reg.weight", shape: [1, 5], initializer: .glorotUniform(fanIn: 5, fanOut: 1))
        let prediction = g.unary(.sigmoid, try g.matmul(h, wr, transposeB: true))
        let targets = g.input("targets", shape: [batch, 1]), all = g.input("all", shape: [batch])
        let loss2 = try g.maskedMean(try g.meanSquaredError(predictions: prediction, targets: targets, mask: all), mask: all).loss

        let inputs: [String: [Float]] = [
            "x": randomValues(batch * 2 * 6 * 5, seed: 1), "labels": [2, 0, 3], "mask": [1, 0, 1],
            "targets": [0.2, 0.9, 0.5], "all": [1, 1, 1], "w1": [0.7], "w2": [1.3],
        ]
        try checkGradients(graph: g, losses: [(loss1, "w1"), (loss2, "w2")], inputs: inputs)
    }

    /// Every transpose combination of matmul, chained, plus dropout, relu, scale, the binary ops, softmax,
    /// log-softmax, reshape and binary cross-entropy.
    func testMatmulTransposesAndElementwiseOpsGradientsMatchFiniteDifferences() throws {
        let g = Graph()
        let x = g.input("x", shape: [4, 3])
        let a = g.parameter("a", shape: [3, 5], initializer: .heUniform(fanIn: 3))
        let p = g.parameter("p", shape: [4, 6], initializer: .heUniform(fanIn: 4))
        let q = g.parameter("q", shape: [3, 5], initializer: .heUniform(fanIn: 5))
        let r = g.parameter("r", shape: [3, 4], initializer: .heUniform(fanIn: 3))
        let h1 = try g.dropout(try g.matmul(x, a), probability: 0.3)                    // [4, 5]
        let h2 = try g.matmul(p, h1, transposeA: true)                                    // pᵀ·h1: [6, 5]
        let h3 = try g.matmul(h2, q, transposeB: true)                                    // h2·qᵀ: [6, 3]
        let h4 = try g.matmul(r, h3, transposeA: true, transposeB: true)                  // rᵀ·h3ᵀ: [4, 6]
        let s = g.scale(g.unary(.relu, h4), by: 0.5)
        let mixed = try g.binary(.add, try g.binary(.subtract, try g.binary(.multiply, s, h4), h4), s)
        let flat = try g.reshape(try g.reshape(mixed, to: [2, 12]), to: [4, 6])
        let t = try g.binary(.multiply, g.softmax(flat), g.logSoftmax(flat))
        let targets = g.input("targets", shape: [4, 6]), mask = g.input("mask", shape: [4])
        let loss = try g.maskedMean(try g.binaryCrossEntropy(logits: t, targets: targets, mask: mask), mask: mask).loss
        let inputs: [String: [Float]] = [
            "x": randomValues(12, seed: 3), "targets": randomValues(24, seed: 4).map { abs($0) },
            "mask": [1, 1, 0, 1], "w": [1],
        ]
        try checkGradients(graph: g, losses: [(loss, "w")], inputs: inputs)
    }

    /// The ops of issue 7's layers chained: conv → leaky ReLU → average pooling → ELU → SiLU → global average
    /// pooling → dense → softmax, under a mean squared error.
    func testPoolingAndParametricActivationGradientsMatchFiniteDifferences() throws {
        let g = Graph()
        let batch = 2
        let x = g.input("x", shape: [batch, 2, 7, 6])
        let w1 = g.parameter("conv.weight", shape: [3, 2, 3, 3], initializer: .heUniform(fanIn: 18))
        var h = g.parametricUnary(.leakyRelu, parameter: 0.2, try g.conv2d(x, w1, stride: 1, padding: 1))
        h = try g.avgPool(h, kernel: 3, stride: 2)                                        // [2, 3, 3, 2]
        h = g.unary(.silu, g.parametricUnary(.elu, parameter: 0.7, h))
        h = try g.globalAvgPool(h)                                                       // [2, 3]
        let w2 = g.parameter("dense.weight", shape: [4, 3], initializer: .glorotUniform(fanIn: 3, fanOut: 4))
        let p = g.softmax(try g.matmul(h, w2, transposeB: true))                         // [2, 4]
        let targets = g.input("targets", shape: [batch, 4]), mask = g.input("mask", shape: [batch])
        let loss = try g.maskedMean(try g.meanSquaredError(predictions: p, targets: targets, mask: mask), mask: mask).loss
        let inputs: [String: [Float]] = [
            "x": randomValues(batch * 2 * 7 * 6, seed: 5), "targets": [1, 0, 0, 0, 0, 0, 1, 0], "mask": [1, 1], "w": [1],
        ]
        try checkGradients(graph: g, losses: [(loss, "w")], inputs: inputs)
    }

    /// The layernorm layer's ops through autodiff and the executor: dense → layerNorm → bias add → tanh → dense,
    /// under a mean squared error; gamma, beta and the dense weight before it all get their gradients.
    func testLayerNormGradientsMatchFiniteDifferences() throws {
        let g = Graph()
        let batch = 3
        let x = g.input("x", shape: [batch, 5])
        let w1 = g.parameter("dense.weight", shape: [7, 5], initializer: .heUniform(fanIn: 5))
        let gamma = g.parameter("norm.weight", shape: [7], initializer: .constant(1))
        let beta = g.parameter("norm.bias", shape: [7], initializer: .zeros)
        let normalized = try g.layerNorm(try g.matmul(x, w1, transposeB: true), gamma: gamma, eps: 1e-5)
        let h = g.unary(.tanh, try g.biasAdd(normalized, beta))
        let w2 = g.parameter("out.weight", shape: [2, 7], initializer: .heUniform(fanIn: 7))
        let p = try g.matmul(h, w2, transposeB: true)
        let targets = g.input("targets", shape: [batch, 2]), mask = g.input("mask", shape: [batch])
        let loss = try g.maskedMean(try g.meanSquaredError(predictions: p, targets: targets, mask: mask), mask: mask).loss
        let inputs: [String: [Float]] = [
            "x": randomValues(batch * 5, seed: 6), "targets": randomValues(batch * 2, seed: 7), "mask": [1, 1, 1], "w": [1],
        ]
        try checkGradients(graph: g, losses: [(loss, "w")], inputs: inputs)
    }

    /// Compares autodiff's gradient of `Σ weight·loss` with central differences at a few elements of every
    /// parameter; prints the largest difference per parameter.
    private func checkGradients(graph g: Graph, losses: [(loss: Value, weight: String)], inputs: [String: [Float]],
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let seeds = losses.map { (loss: $0.loss, seed: g.input($0.weight, shape: [1])) }
        let gradients = try Autodiff.gradients(of: seeds, withRespectTo: g.parameters, in: g)
        XCTAssertEqual(gradients.count, g.parameters.count, "every parameter should get a gradient", file: file, line: line)
        let backend = CPUBackend()
        let store = try ParameterStore(graph: g, backend: backend)
        var initial: [String: [Float]] = [:]
        for (index, parameter) in g.parameters.enumerated() {
            initial[g.name(of: parameter)!] = randomValues(g.count(of: parameter), seed: 100 + UInt32(index), scale: 0.8)
        }
        try store.load(initial)
        let executor = try Executor(graph: g, backend: backend, parameters: store,
                                    outputs: Array(gradients.values) + losses.map(\.loss), mode: .training)
        for (name, values) in inputs where executor.inputNames.contains(name) { try executor.setInput(name, values) }
        func total() throws -> Double {
            try executor.run(seed: 42)
            return try losses.reduce(0.0) { sum, item in
                sum + Double(inputs[item.weight]![0]) * Double(try executor.read(item.loss)[0])
            }
        }
        _ = try total()
        for parameter in g.parameters {
            let name = g.name(of: parameter)!
            let analytic = try executor.read(gradients[parameter]!)
            var values = initial[name]!
            var largest: Float = 0
            let step: Float = 3e-3
            for index in stride(from: 0, to: values.count, by: max(1, values.count / 7)) {
                let original = values[index]
                values[index] = original + step
                try store.load([name: values])
                let plus = try total()
                values[index] = original - step
                try store.load([name: values])
                let minus = try total()
                values[index] = original
                try store.load([name: values])
                let numeric = Float((plus - minus) / Double(2 * step))
                let difference = abs(analytic[index] - numeric)
                largest = max(largest, difference)
                XCTAssertLessThanOrEqual(difference, 3e-3 + 3e-2 * abs(numeric),
                    "\(name)[\(index)]: autodiff \(analytic[index]) vs finite difference \(numeric)", file: file, line: line)
            }
            print("gradient check \(name): largest |autodiff − finite difference| = \(largest)")
        }
    }

    private func randomValues(_ count: Int, seed: UInt32, scale: Float = 1) -> [Float] {
        (0..<count).map { i in (DropoutRandom.uniform(seed: seed, index: UInt32(i)) * 2 - 1) * scale }
    }
}
