import CanopyCore
import XCTest
@testable import CanopyModel

/// The `embedding`, `multihead_attention` and `sequence_mean` layers in model files: the ways of writing them,
/// shapes, parameter names, counts and initializers in the summary and the graph, and placed errors.
final class SequenceLayersTests: XCTestCase {
    func model(input: String = "[12]", shared: String) -> String {
        """
        name: s
        data: {source: builtin:digits}
        input: {shape: \(input)}
        shared: \(shared)
        tasks:
          d: {head: [flatten, {dense: 10}], loss: cross_entropy}
        train: {optimizer: adam, batch_size: 4, epochs: 1}
        """
    }

    let stack = "[{embedding: {vocabulary: 20, dim: 8, padding: 0, positions: 12}}, {multihead_attention: {heads: 2, dim: 8}}, sequence_mean]"

    func testEveryFormReadsTheSameLayers() throws {
        func layer(_ written: String, sequence: Bool = false) throws -> LayerKind {
            // Inputs are flat or images: a reshape makes a [length, features] sequence of a flat one.
            let spec = try parseModel(model(input: sequence ? "[24]" : "[12]",
                                            shared: sequence ? "[{reshape: [12, 2]}, \(written)]" : "[\(written)]"))
            return spec.shared[sequence ? 1 : 0].kind
        }
        XCTAssertEqual(try layer("{embedding: {vocabulary: 20, dim: 8}}"), .embedding(vocabulary: 20, dim: 8))
        XCTAssertEqual(try layer("{embedding: {vocabulary: 20, dim: 8, padding: 0, positions: 12}}"),
                       .embedding(vocabulary: 20, dim: 8, padding: 0, positions: 12))
        XCTAssertEqual(try layer("{embedding: {vocabulary: 20, dim: 8, padding: -1}}"), .embedding(vocabulary: 20, dim: 8))
        XCTAssertEqual(try layer("{multihead_attention: {heads: 2, dim: 8}}", sequence: true), .multiheadAttention(heads: 2, dim: 8))
        XCTAssertEqual(try layer("{multihead_attention: {heads: 1, dim: 4, causal: true, bias: false}}",
                                 sequence: true),
                       .multiheadAttention(heads: 1, dim: 4, causal: true, bias: false))
        XCTAssertEqual(try layer("sequence_mean", sequence: true), .sequenceMean)
        let text = model(shared: "[]").replacingOccurrences(of: "tasks:", with: """
            graph:
              - {name: e, op: embedding, vocabulary: 20, dim: 8}
              - {name: a, op: multihead_attention, heads: 4, dim: 8, causal: true}
              - {name: m, op: sequence_mean}
            tasks:
            """)
        guard case .graph(let nodes) = try parseModel(text).scheme else { return XCTFail("expected a graph") }
        XCTAssertEqual(nodes.map(\.op), [.layer(.embedding(vocabulary: 20, dim: 8)),
                                         .layer(.multiheadAttention(heads: 4, dim: 8, causal: true)), .layer(.sequenceMean)])
    }

    func testShapesParameterNamesAndCounts() throws {
        let summary = try summarize(try parseModel(model(shared: stack)))
        XCTAssertEqual(summary.shared.map(\.description),
                       ["embedding 20×8 padding 0 positions 12", "multihead_attention 2×4", "sequence_mean"])
        XCTAssertEqual(summary.shared.map(\.outputShape), [[12, 8], [12, 8], [8]])
        XCTAssertEqual(summary.shared[0].parameterNames, ["shared.0.weight", "shared.0.position"])
        XCTAssertEqual(summary.shared[0].parameterCount, 20 * 8 + 12 * 8)
        XCTAssertEqual(summary.shared[1].parameterNames,
                       ["query.weight", "query.bias", "key.weight", "key.bias", "value.weight", "value.bias",
                        "output.weight", "output.bias"].map { "shared.1.\($0)" })
        XCTAssertEqual(summary.shared[1].parameterCount, 4 * (8 * 8 + 8))
        XCTAssertEqual(summary.shared[2].parameterCount, 0)
        XCTAssertEqual(summary.totalParameterCount, 20 * 8 + 12 * 8 + 4 * 72 + 8 * 10 + 10)

        let unbiased = try summarize(try parseModel(model(input: "[15]",
            shared: "[{reshape: [5, 3]}, {multihead_attention: {heads: 3, dim: 6, bias: false}}]")))
        XCTAssertEqual(unbiased.shared[1].parameterNames,
                       ["shared.1.query.weight", "shared.1.key.weight", "shared.1.value.weight", "shared.1.output.weight"])
        XCTAssertEqual(unbiased.shared[1].parameterCount, 3 * 6 * 3 + 6 * 6)
        XCTAssertEqual(unbiased.shared[1].outputShape, [5, 6])
    }

    func testInitializersAndGraphOps() throws {
        let built = try ModelGraph.build(try parseModel(model(shared: stack.replacingOccurrences(
            of: "dim: 8}}, sequence", with: "dim: 8, causal: true}}, sequence"))), batchSize: 3,
                                         training: false)
        var initializers: [String: ParameterInit] = [:], shapes: [String: [Int]] = [:]
        for (index, node) in built.graph.nodes.enumerated() {
            if case let .parameter(name, initializer) = node.op {
                initializers[name] = initializer
                shapes[name] = built.graph.shape(of: Value(node: index))
            }
        }
        let bound = Float(3).squareRoot()
        XCTAssertEqual(initializers["shared.0.weight"], .uniformWithZeroRow(bound: bound, zeroRow: 0, rowLength: 8))
        XCTAssertEqual(initializers["shared.0.position"], .uniform(bound: bound))
        XCTAssertEqual(initializers["shared.1.query.weight"], .glorotUniform(fanIn: 8, fanOut: 8))
        XCTAssertEqual(initializers["shared.1.output.bias"], .zeros)
        XCTAssertEqual(shapes["shared.0.weight"], [20, 8])
        XCTAssertEqual(shapes["shared.0.position"], [12, 8])
        XCTAssertEqual(shapes["shared.1.query.weight"], [8, 8])
        let ops = built.graph.nodes.map(\.op)
        XCTAssertTrue(ops.contains(.embedding(padding: 0)))
        XCTAssertTrue(ops.contains(.causalMask(fill: -.infinity)))
        XCTAssertEqual(ops.filter { $0 == .batchedMatmul(transposeA: false, transposeB: true) }.count, 1)
        XCTAssertEqual(ops.filter { $0 == .swapAxes(axis: 1) }.count, 5, "3 splits, 1 merge, 1 sequence mean")
    }

    func testPlacedErrors() {
        assertModelError(model(input: "[24]", shared: "[{reshape: [12, 2]}, {multihead_attention: {heads: 3, dim: 8}}]"),
                         line: 4, keyPath: "shared[1].multihead_attention.heads", "heads 3 must divide dim 8")
        assertModelError(model(shared: "[{multihead_attention: {heads: 2, dim: 8}}]"), line: 4, keyPath: "shared[0]",
                         "multihead_attention needs a [length, features] input but gets 12; an embedding gives one")
        assertModelError(model(input: "[24]", shared: "[{reshape: [12, 2]}, {multihead_attention: {heads: 0, dim: 8}}]"),
                         line: 4, keyPath: "shared[1].multihead_attention.heads", "heads must be positive, got 0")
        assertModelError(model(input: "[12]", shared: "[{reshape: [3, 4]}, {embedding: {vocabulary: 20, dim: 8}}]"), line: 4,
                         keyPath: "shared[1]", "embedding needs a [length] input of token ids but gets 3×4")
        assertModelError(model(shared: "[{embedding: {vocabulary: 20, dim: 8, padding: 20}}]"), line: 4,
                         keyPath: "shared[0].embedding.padding", "padding must be an id in 0..<20 (or −1 for none), got 20")
        assertModelError(model(shared: "[{embedding: {vocabulary: 20, dim: 8, positions: 10}}]"), line: 4,
                         keyPath: "shared[0].embedding.positions", "positions must equal the input's length 12, got 10")
        assertModelError(model(shared: "[{embedding: {vocabulary: 0, dim: 8}}]"), line: 4,
                         keyPath: "shared[0].embedding.vocabulary", "vocabulary must be positive, got 0")
        assertModelError(model(shared: "[{embedding: {dim: 8}}]"), line: 4, keyPath: "shared[0].embedding.vocabulary",
                         "missing required key 'vocabulary'")
        assertModelError(model(shared: "[sequence_mean]"), line: 4, keyPath: "shared[0]",
                         "sequence_mean needs a [length, features] input but gets 12")
        // dense is 2-D only: on a sequence it asks for a flat input, so a head follows sequence_mean (or flatten).
        assertModelError(model(shared: "[{embedding: {vocabulary: 20, dim: 8}}, {dense: 4}]"), line: 4,
                         keyPath: "shared[1]", "dense needs a flat input but gets 12×8; add 'flatten' before it")
    }
}
