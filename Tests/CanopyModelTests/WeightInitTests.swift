import CanopyCore
import XCTest
@testable import CanopyModel

/// `init: he | glorot | pytorch` and `bias: false` on dense and conv2d: parameters in the summary and the graph,
/// the defaults unchanged, and placed errors.
final class WeightInitTests: XCTestCase {
    func model(shared: String) -> String {
        """
        name: s
        data: {source: builtin:digits}
        input: {shape: [1, 8, 8]}
        shared: \(shared)
        tasks:
          d: {head: [{dense: 10}], loss: cross_entropy}
        train: {optimizer: adam, batch_size: 4, epochs: 1}
        """
    }

    func initializers(_ text: String) throws -> [String: ParameterInit] {
        let built = try ModelGraph.build(try parseModel(text), batchSize: 2)
        var found: [String: ParameterInit] = [:]
        for node in built.graph.nodes { if case let .parameter(name, initializer) = node.op { found[name] = initializer } }
        return found
    }

    func testBiasFalseDropsTheBiasParameter() throws {
        let shared = "[{conv2d: {filters: 4, kernel: 3, bias: false}}, flatten, {dense: {units: 8, bias: false}}, {dense: 6}]"
        let summary = try summarize(try parseModel(model(shared: shared)))
        XCTAssertEqual(summary.shared.map(\.description),
                       ["conv2d 4×3×3 s1 p0 no bias", "flatten", "dense 8 no bias", "dense 6"])
        XCTAssertEqual(summary.shared[0].parameterNames, ["shared.0.weight"])
        XCTAssertEqual(summary.shared[2].parameterNames, ["shared.2.weight"])
        XCTAssertEqual(summary.shared[3].parameterNames, ["shared.3.weight", "shared.3.bias"])
        XCTAssertEqual(summary.shared.map(\.parameterCount), [4 * 9, 0, 8 * 144, 6 * 8 + 6])
        let graph = try ModelGraph.build(try parseModel(model(shared: shared)), batchSize: 2).graph
        XCTAssertEqual(graph.nodes.filter { $0.op == .biasAdd }.count, 2, "only dense 6 and the head add a bias")
    }

    func testInitializersByWord() throws {
        let shared = """
            [{conv2d: {filters: 4, kernel: 3, init: glorot}}, {conv2d: {filters: 2, kernel: 3, init: pytorch}}, flatten,
             {dense: {units: 8, init: pytorch}}, {dense: {units: 6, init: he}}, {dense: {units: 5, init: glorot, bias: false}}]
            """
        let found = try initializers(model(shared: shared))
        XCTAssertEqual(found["shared.0.weight"], .glorotUniform(fanIn: 9, fanOut: 36))
        XCTAssertEqual(found["shared.0.bias"], .zeros)
        XCTAssertEqual(found["shared.1.weight"], .uniform(bound: 1 / Float(36).squareRoot()))
        XCTAssertEqual(found["shared.1.bias"], .uniform(bound: 1 / Float(36).squareRoot()))
        XCTAssertEqual(found["shared.3.weight"], .uniform(bound: 1 / Float(32).squareRoot()))
        XCTAssertEqual(found["shared.3.bias"], .uniform(bound: 1 / Float(32).squareRoot()))
        XCTAssertEqual(found["shared.4.weight"], .heUniform(fanIn: 8))
        XCTAssertEqual(found["shared.4.bias"], .zeros)
        XCTAssertEqual(found["shared.5.weight"], .glorotUniform(fanIn: 6, fanOut: 5))
        XCTAssertNil(found["shared.5.bias"])
        let summary = try summarize(try parseModel(model(shared: shared)))
        XCTAssertEqual(summary.shared[3].description, "dense 8 init pytorch")
    }

    /// Without the new keys, and with them set to their defaults, the layers are today's: He-uniform and zeros.
    func testDefaultsAreUnchanged() throws {
        XCTAssertEqual(try parseModel(model(shared: "[flatten, {dense: 8}]")).shared[1].kind, .dense(units: 8))
        XCTAssertEqual(try parseModel(model(shared: "[flatten, {dense: {units: 8, init: he, bias: true}}]")).shared[1].kind,
                       .dense(units: 8))
        XCTAssertEqual(try parseModel(model(shared: "[{conv2d: {filters: 2, kernel: 3, init: he}}, flatten]")).shared[0].kind,
                       .conv2d(filters: 2, kernel: 3))
        let found = try initializers(model(shared: "[{conv2d: {filters: 2, kernel: 3}}, flatten, {dense: 8}]"))
        XCTAssertEqual(found["shared.0.weight"], .heUniform(fanIn: 9))
        XCTAssertEqual(found["shared.2.bias"], .zeros)
    }

    func testGraphNodesTakeTheKeys() throws {
        let text = model(shared: "[flatten]").replacingOccurrences(of: "tasks:", with: """
            graph:
              - {name: h, op: dense, units: 8, init: pytorch, bias: false}
            tasks:
            """)
        guard case .graph(let nodes) = try parseModel(text).scheme else { return XCTFail("expected a graph") }
        XCTAssertEqual(nodes[0].op, .layer(.dense(units: 8, initializer: .pytorch, bias: false)))
    }

    func testPlacedErrors() {
        assertModelError(model(shared: "[flatten, {dense: {units: 8, init: pytroch}}]"), line: 4,
                         keyPath: "shared[1].dense.init", "unknown init 'pytroch'", "did you mean 'pytorch'?")
        assertModelError(model(shared: "[flatten, {dense: {units: 8, init: 3}}]"), line: 4,
                         keyPath: "shared[1].dense.init", "unknown init '3'")
        assertModelError(model(shared: "[{conv2d: {filters: 2, kernel: 3, bias: no}}]"), line: 4,
                         keyPath: "shared[0].conv2d.bias", "expected true or false")
        assertModelError(model(shared: "[{conv2d: {filters: 2, kernel: 3, biases: false}}]"), line: 4,
                         keyPath: "shared[0].conv2d.biases", "did you mean 'bias'?")
    }
}
