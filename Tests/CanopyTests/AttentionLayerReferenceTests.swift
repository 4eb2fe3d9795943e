import Canopy
import CanopyTestSupport
import Foundation
import XCTest

/// The `multihead_attention` layer's graph against attention written as direct loops (per example, head and
/// query position: scores, softmax, weighted values), causal and not, on both backends; and the gradients autodiff
/// builds for embedding (with positions) → attention → sequence_mean against central differences.
final class AttentionLayerReferenceTests: XCTestCase {
    var backends: [Backend] {
        var list: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { list.append(openCL) }
        return list
    }

    /// Parameters of `layer` on `input`, created in `graph` in the layer's order, with values drawn from a seed.
    private func parameters(_ layer: some Layer, input: [Int], in graph: Graph, prefix: String,
                            random: inout TestRandom) -> (values: [Value], initial: [String: [Float]]) {
        var values: [Value] = [], initial: [String: [Float]] = [:]
        for parameter in layer.parameters(input: input) {
            let name = "\(prefix).\(parameter.suffix)"
            values.append(graph.parameter(name, shape: parameter.shape, initializer: .zeros))
            initial[name] = random.floats(parameter.shape.reduce(1, *), in: -0.8...0.8)
        }
        return (values, initial)
    }

    /// Direct loops: y[n, i] = Wo · concat_h(Σ_j softmax_j(q_h(i)·k_h(j)/√d) v_h(j)) + bo.
    private func naiveAttention(x: [Float], batch: Int, length: Int, features: Int, heads: Int, dim: Int, causal: Bool,
                                p: [String: [Float]]) -> [Float] {
        let width = dim / heads
        func project(_ name: String, _ input: [Double], _ inputs: Int) -> [Double] {
            let w = p["a.\(name).weight"]!, b = p["a.\(name).bias"]!
            return (0..<dim).map { o in (0..<inputs).reduce(Double(b[o])) { $0 + Double(w[o * inputs + $1]) * input[$1] } }
        }
        var y: [Float] = []
        for n in 0..<batch {
            let rows = (0..<length).map { i in (0..<features).map { Double(x[(n * length + i) * features + $0]) } }
            let q = rows.map { project("query", $0, features) }, k = rows.map { project("key", $0, features) }
            let v = rows.map { project("value", $0, features) }
            for i in 0..<length {
                var joined = [Double](repeating: 0, count: dim)
                for h in 0..<heads {
                    let visible = causal ? 0...i : 0...(length - 1)
                    let scores = visible.map { j in
                        (0..<width).reduce(0.0) { $0 + q[i][h * width + $1] * k[j][h * width + $1] } / Double(width).squareRoot()
                    }
                    let top = scores.max()!, weights = scores.map { Foundation.exp($0 - top) }
                    let total = weights.reduce(0, +)
                    for (slot, j) in visible.enumerated() {
                        for e in 0..<width { joined[h * width + e] += weights[slot] / total * v[j][h * width + e] }
                    }
                }
                y += project("output", joined, dim).map { Float($0) }
            }
        }
        return y
    }

    func testAttentionMatchesDirectLoops() throws {
        for (batch, length, features, heads, dim, causal) in [(2, 5, 3, 2, 4, false), (2, 5, 3, 2, 4, true),
                                                              (3, 1, 2, 1, 3, true), (1, 7, 4, 6, 6, false),
                                                              (1, 7, 4, 6, 6, true)] {
            let layer = MultiheadAttentionLayer(heads: heads, dim: dim, causal: causal)
            var random = TestRandom(seed: UInt64(length * 10 + heads))
            let graph = Graph()
            let x = graph.input("x", shape: [batch, length, features])
            let (values, initial) = parameters(layer, input: [length, features], in: graph, prefix: "a", random: &random)
            let y = try layer.append(to: x, parameters: values, label: "a", in: graph)
            XCTAssertEqual(graph.shape(of: y), [batch, length, dim])
            let inputs = random.floats(batch * length * features, in: -1.5...1.5)
            let expected = naiveAttention(x: inputs, batch: batch, length: length, features: features, heads: heads,
                                          dim: dim, causal: causal, p: initial)
            for backend in backends {
                let store = try ParameterStore(graph: graph, backend: backend)
                try store.load(initial)
                let executor = try Executor(graph: graph, backend: backend, parameters: store, outputs: [y], mode: .inference)
                try executor.setInput("x", inputs)
                try executor.run()
                assertClose(try executor.read(y), expected, tolerance: Tolerance(absolute: 2e-5, relative: 1e-4),
                            "\(layer) \(batch)×\(length)×\(features) on \(backend.name)")
            }
        }
    }

    /// ids → embedding (padding 0, positions) → causal attention → sequence_mean → mean squared error: autodiff's
    /// gradient of every parameter against central differences of the loss, on both backends.
    func testSequenceStackGradientsMatchFiniteDifferences() throws {
        let (batch, length, vocabulary) = (3, 4, 6)
        let embedding = EmbeddingLayer(vocabulary: vocabulary, dim: 4, padding: 0, positions: length)
        let attention = MultiheadAttentionLayer(heads: 2, dim: 4, causal: true)
        var random = TestRandom(seed: 12)
        let g = Graph()
        let ids = g.input("ids", shape: [batch, length])
        let e = parameters(embedding, input: [length], in: g, prefix: "e", random: &random)
        let a = parameters(attention, input: [length, 4], in: g, prefix: "a", random: &random)
        let h = try attention.append(to: try embedding.append(to: ids, parameters: e.values, label: "e", in: g),
                                     parameters: a.values, label: "a", in: g)
        let pooled = try SequenceMeanLayer().append(to: h, parameters: [], label: "m", in: g)
        let targets = g.input("targets", shape: [batch, 4]), mask = g.input("mask", shape: [batch])
        let loss = try g.maskedMean(try g.meanSquaredError(predictions: pooled, targets: targets, mask: mask), mask: mask).loss
        let gradients = try Autodiff.gradients(of: [(loss, g.input("seed", shape: [1]))], withRespectTo: g.parameters, in: g)
        let initial = e.initial.merging(a.initial) { $1 }
        let inputs: [String: [Float]] = ["ids": [1, 2, 2, 0, 5, 3, 0, 0, 4, 1, 3, 2], "targets": random.floats(batch * 4),
                                         "mask": [1, 1, 1], "seed": [1]]
        for backend in backends {
            let store = try ParameterStore(graph: g, backend: backend)
            try store.load(initial)
            let executor = try Executor(graph: g, backend: backend, parameters: store,
                                        outputs: [loss] + Array(gradients.values), mode: .training)
            for (name, values) in inputs { try executor.setInput(name, values) }
            var named: [String: Value] = [:]
            for parameter in g.parameters { named[g.name(of: parameter)!] = gradients[parameter]! }
            let analytic = try checkParameterGradients(executor: executor, store: store, loss: loss, gradients: named,
                                                       initial: initial, absolute: 5e-4, relative: 1e-2,
                                                       label: "sequence stack on \(backend.name)")
            XCTAssertEqual(Array(analytic["e.weight"]![0..<4]), [0, 0, 0, 0], "the padding row gets no gradient")
            XCTAssertTrue(analytic["e.weight"]![4...].contains { $0 != 0 }, "used rows get one")
        }
    }
}
