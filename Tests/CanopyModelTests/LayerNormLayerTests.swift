import CanopyCore
import XCTest
@testable import CanopyModel

/// The `layernorm` layer in model files: both ways of writing it, its parameters in the summary and the graph, and
/// placed errors.
final class LayerNormLayerTests: XCTestCase {
    func model(input: String = "[12]", shared: String) -> String {
        """
        name: s
        data: {source: builtin:digits}
        input: {shape: \(input)}
        shared: \(shared)
        tasks:
          d: {head: [{dense: 10}], loss: cross_entropy}
        train: {optimizer: adam, batch_size: 4, epochs: 1}
        """
    }

    func testEveryFormReadsTheSameLayer() throws {
        func layer(_ written: String) throws -> LayerKind { try parseModel(model(shared: "[\(written)]")).shared[0].kind }
        XCTAssertEqual(try layer("layernorm"), .layerNorm())
        XCTAssertEqual(try layer("{layernorm: {eps: 1e-5}}"), .layerNorm(eps: 1e-5))
        XCTAssertEqual(try layer("{layernorm: {eps: 0.001}}"), .layerNorm(eps: 0.001))
        let text = model(shared: "[]").replacingOccurrences(of: "tasks:", with: """
            graph:
              - {name: n, op: layernorm, eps: 0.01}
            tasks:
            """)
        guard case .graph(let nodes) = try parseModel(text).scheme else { return XCTFail("expected a graph") }
        XCTAssertEqual(nodes[0].op, .layer(.layerNorm(eps: 0.01)))
    }

    /// gamma (`weight`, ones) and beta (`bias`, zeros) of the input's width, named like every layer's parameters.
    func testParametersInTheSummaryAndTheGraph() throws {
        let summary = try summarize(try parseModel(model(shared: "[{dense: 8}, layernorm, relu]")))
        XCTAssertEqual(summary.shared.map(\.description), ["dense 8", "layernorm", "relu"])
        XCTAssertEqual(summary.shared.map(\.outputShape), [[8], [8], [8]])
        XCTAssertEqual(summary.shared[1].parameterNames, ["shared.1.weight", "shared.1.bias"])
        XCTAssertEqual(summary.shared[1].parameterCount, 16)
        XCTAssertEqual(summary.totalParameterCount, 12 * 8 + 8 + 16 + 8 * 10 + 10)

        let built = try ModelGraph.build(try parseModel(model(shared: "[{dense: 8}, layernorm]")), batchSize: 3)
        var initializers: [String: ParameterInit] = [:]
        for node in built.graph.nodes { if case let .parameter(name, initializer) = node.op { initializers[name] = initializer } }
        XCTAssertEqual(initializers["shared.1.weight"], .constant(1))
        XCTAssertEqual(initializers["shared.1.bias"], .zeros)
        XCTAssertTrue(built.graph.nodes.contains { $0.op == .layerNorm(eps: 1e-5) })
    }

    func testPlacedErrors() {
        assertModelError(model(shared: "[{layernorm: {eps: 0}}]"), line: 4, keyPath: "shared[0].layernorm.eps",
                         "layernorm eps must be a positive number, got 0.0")
        assertModelError(model(shared: "[{layernorm: {epsilon: 0.1}}]"), line: 4, keyPath: "shared[0].layernorm.epsilon",
                         "unknown key 'epsilon' (expected one of: eps)")
        assertModelError(model(input: "[1, 8, 8]", shared: "[layernorm]"), line: 4, keyPath: "shared[0]",
                         "layernorm needs a flat input but gets 1×8×8; add 'flatten' before it")
    }
}
