import CanopyCore
import XCTest
@testable import CanopyModel

/// The `batchnorm` layer in model files: both ways of writing it, its trained and running parameters in the summary
/// and the graph, the real-rows input it reads, and placed errors.
final class BatchNormLayerTests: XCTestCase {
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
        XCTAssertEqual(try layer("batchnorm"), .batchNorm())
        XCTAssertEqual(try layer("{batchnorm: {momentum: 0.1, eps: 1e-5}}"), .batchNorm())
        XCTAssertEqual(try layer("{batchnorm: {momentum: 0.01}}"), .batchNorm(momentum: 0.01))
        let text = model(shared: "[]").replacingOccurrences(of: "tasks:", with: """
            graph:
              - {name: n, op: batchnorm, eps: 0.001}
            tasks:
            """)
        guard case .graph(let nodes) = try parseModel(text).scheme else { return XCTFail("expected a graph") }
        XCTAssertEqual(nodes[0].op, .layer(.batchNorm(eps: 0.001)))
    }

    /// weight and bias are trained; running_mean and running_var are state, counted and named like parameters
    /// (PyTorch's names) but never differentiated or given optimizer state.
    func testParametersInTheSummaryAndTheGraph() throws {
        let summary = try summarize(try parseModel(model(input: "[1, 8, 8]",
                                                         shared: "[{conv2d: {filters: 4, kernel: 3}}, batchnorm, relu, flatten]")))
        XCTAssertEqual(summary.shared.map(\.description), ["conv2d 4×3×3 s1 p0", "batchnorm", "relu", "flatten"])
        XCTAssertEqual(summary.shared[1].parameterNames,
                       ["shared.1.weight", "shared.1.bias", "shared.1.running_mean", "shared.1.running_var"])
        XCTAssertEqual(summary.shared[1].parameterCount, 16)
        XCTAssertEqual(summary.nonTrainableParameterCount, 8)
        XCTAssertTrue(summary.render().contains("of which running statistics (not trained)"), summary.render())

        let built = try ModelGraph.build(try parseModel(model(shared: "[{dense: 8}, batchnorm]")), batchSize: 3)
        let graph = built.graph
        var initializers: [String: ParameterInit] = [:]
        for node in graph.nodes { if case let .parameter(name, initializer) = node.op { initializers[name] = initializer } }
        XCTAssertEqual(initializers["shared.1.weight"], .constant(1))
        XCTAssertEqual(initializers["shared.1.bias"], .zeros)
        XCTAssertEqual(initializers["shared.1.running_mean"], .zeros)
        XCTAssertEqual(initializers["shared.1.running_var"], .constant(1))
        let trainable = graph.trainableParameters.compactMap(graph.name(of:))
        XCTAssertFalse(trainable.contains("shared.1.running_mean"))
        XCTAssertFalse(trainable.contains("shared.1.running_var"))
        XCTAssertTrue(trainable.contains("shared.1.weight"))
        XCTAssertEqual(Set(built.gradients.keys), Set(trainable), "gradients exist exactly for trained parameters")
        XCTAssertEqual(graph.shape(of: graph.input(named: ModelGraph.realRowsInputName)!), [3])
        XCTAssertTrue(graph.nodes.contains { $0.op == .batchNorm(momentum: 0.1, eps: 1e-5) })
        XCTAssertFalse(built.sharedParameters.contains("shared.1.running_mean"))
    }

    /// A model without batch norm has no real-rows input (nothing changes for it).
    func testOtherModelsHaveNoRealRowsInput() throws {
        let built = try ModelGraph.build(try parseModel(model(shared: "[{dense: 8}, layernorm]")), batchSize: 3)
        XCTAssertNil(built.graph.input(named: ModelGraph.realRowsInputName))
    }

    func testPlacedErrors() {
        assertModelError(model(shared: "[{batchnorm: {eps: 0}}]"), line: 4, keyPath: "shared[0].batchnorm.eps",
                         "batchnorm eps must be a positive number, got 0.0")
        assertModelError(model(shared: "[{batchnorm: {momentum: 1.5}}]"), line: 4, keyPath: "shared[0].batchnorm.momentum",
                         "batchnorm momentum must be between 0 and 1, got 1.5")
        assertModelError(model(shared: "[{batchnorm: {mom: 0.1}}]"), line: 4, keyPath: "shared[0].batchnorm.mom",
                         "unknown key 'mom' (expected one of: momentum, eps)")
    }
}
