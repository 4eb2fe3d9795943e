import XCTest
@testable import CanopyModel

/// `residual: [layers]` in layer lists: summary rows (the block's, then its layers'), shapes, parameter names by
/// where they are written (`shared.2.0.weight`), every list it can sit in, nesting, and placed errors.
final class ResidualTests: XCTestCase {
    /// A flat-input model with `shared` and the head of task `d` spliced in; `scheme` goes after `shared`.
    func model(shared: String, head: String = "[{dense: 10}]", scheme: String = "") -> String {
        """
        name: s
        data: {source: builtin:digits}
        input: {shape: [64]}
        shared: \(shared)
        \(scheme)
        tasks:
          d: {head: \(head), loss: cross_entropy}
        train: {optimizer: adam, batch_size: 4, epochs: 1}
        """
    }

    func testRowsShapesAndParameterNamesInTheStem() throws {
        let summary = try summarize(try parseModel(model(
            shared: "[{dense: 8}, relu, {residual: [{dense: 6}, relu, {dense: 8}]}, {dense: 4}]")))
        XCTAssertEqual(summary.shared.map(\.keyPath),
                       ["shared[0]", "shared[1]", "shared[2]", "shared[2].residual[0]", "shared[2].residual[1]",
                        "shared[2].residual[2]", "shared[3]"])
        XCTAssertEqual(summary.shared.map(\.description),
                       ["dense 8", "relu", "residual x + f(x), 3 layers", "dense 6", "relu", "dense 8", "dense 4"])
        XCTAssertEqual(summary.shared.map(\.outputShape), [[8], [8], [8], [6], [6], [8], [4]])
        XCTAssertEqual(summary.shared.map(\.parameterCount), [520, 0, 0, 54, 0, 56, 36])
        XCTAssertEqual(summary.parameters.map(\.name),
                       ["shared.0.weight", "shared.0.bias", "shared.2.0.weight", "shared.2.0.bias", "shared.2.2.weight",
                        "shared.2.2.bias", "shared.3.weight", "shared.3.bias",
                        "tasks.d.head.0.weight", "tasks.d.head.0.bias"])
        XCTAssertEqual(summary.sharedOutputShape, [4])
        let table = summary.render()
        for text in ["shared[2].residual[0]", "residual x + f(x), 3 layers"] {
            XCTAssertTrue(table.contains(text), "the summary lacks '\(text)':\n\(table)")
        }
        XCTAssertEqual(try parseModel(model(shared: "[{residual: [relu]}]")).shared[0].kind,
                       .residual([LayerSpec(kind: .activation(.relu), keyPath: "shared[0].residual[0]",
                                            location: SourceLocation(file: "t.yaml", line: 4, column: 22))]))
    }

    /// `freeze:` a block's key path freezes every layer inside it; one inner layer's path freezes only that one.
    func testFreezingABlockFreezesItsLayers() throws {
        let summary = try summarize(try parseModel(model(
            shared: "[{dense: 8}, relu, {residual: [{dense: 6}, relu, {dense: 8}]}, {dense: 4}]")))
        XCTAssertEqual(summary.parameterNames(frozenBy: "shared[2]"),
                       ["shared.2.0.weight", "shared.2.0.bias", "shared.2.2.weight", "shared.2.2.bias"])
        XCTAssertEqual(summary.parameterNames(frozenBy: "shared[2].residual[2]"), ["shared.2.2.weight", "shared.2.2.bias"])
        XCTAssertEqual(summary.parameterNames(frozenBy: "shared[0]"), ["shared.0.weight", "shared.0.bias"])
    }

    func testHeadsExpertsAndNesting() throws {
        let head = try summarize(try parseModel(model(shared: "[{dense: 8}]",
                                                      head: "[{residual: [{dense: 8}, tanh]}, {dense: 10}]")))
        XCTAssertEqual(head.tasks[0].rows.map(\.keyPath),
                       ["tasks.d.head[0]", "tasks.d.head[0].residual[0]", "tasks.d.head[0].residual[1]", "tasks.d.head[1]"])
        XCTAssertEqual(head.parameters.map(\.name).suffix(4),
                       ["tasks.d.head.0.0.weight", "tasks.d.head.0.0.bias", "tasks.d.head.1.weight", "tasks.d.head.1.bias"])

        let moe = try summarize(try parseModel(model(shared: "[{dense: 8}]",
                                                     scheme: "mmoe: {experts: 2, expert: [{residual: [{dense: 8}]}, relu]}")))
        XCTAssertEqual(moe.sections[0].rows.map(\.keyPath),
                       ["mmoe.expert[0]", "mmoe.expert[0].residual[0]", "mmoe.expert[1]"])
        XCTAssertEqual(moe.sections[0].rows[1].parameters.map(\.name),
                       ["experts.0.0.0.weight", "experts.0.0.0.bias", "experts.1.0.0.weight", "experts.1.0.0.bias"])

        let nested = try summarize(try parseModel(model(
            shared: "[{dense: 8}, {residual: [relu, {residual: [{dense: 8}]}]}]")))
        XCTAssertEqual(nested.shared.map(\.keyPath),
                       ["shared[0]", "shared[1]", "shared[1].residual[0]", "shared[1].residual[1]",
                        "shared[1].residual[1].residual[0]"])
        XCTAssertEqual(nested.parameters.map(\.name).prefix(4),
                       ["shared.0.weight", "shared.0.bias", "shared.1.1.0.weight", "shared.1.1.0.bias"])
    }

    func testTheGraphAddsTheInputToTheBlocksOutput() throws {
        let spec = try parseModel(model(shared: "[{dense: 8}, {residual: [{dense: 8}]}]"))
        let graph = try ModelGraph.build(spec, batchSize: 2, training: false).graph
        let sums = graph.nodes.filter { $0.op == .binary(.add) && $0.label == "shared[1]" }
        XCTAssertEqual(sums.count, 1)
        XCTAssertEqual(sums.first?.outputShapes, [[2, 8]])
    }

    func testPlacedErrors() {
        assertModelError(model(shared: "[{dense: 8}, {residual: [{dense: 6}]}]"), line: 4, column: 22,
                         keyPath: "shared[1]", "a residual block's layers must keep its input's shape, but they turn 8 into 6")
        assertModelError(model(shared: "[{dense: 8}, residual]"), line: 4, keyPath: "shared[1]",
                         "'residual' needs a list of layers, for example {residual: [{dense: 64}, relu]}")
        assertModelError(model(shared: "[{residual: 3}]"), line: 4, keyPath: "shared[0].residual",
                         "expected a list of layers such as [{dense: 64}, relu]")
        assertModelError(model(shared: "[{residual: []}]"), line: 4, keyPath: "shared[0].residual",
                         "a residual block needs at least one layer")
        assertModelError(model(shared: "[{residual: [relu, {dense: 0}]}]"), line: 4,
                         keyPath: "shared[0].residual[1].dense.units", "units must be positive, got 0")
        assertModelError(model(shared: "[{residul: [relu]}]"), line: 4, keyPath: "shared[0]",
                         "unknown layer 'residul'", "did you mean 'residual'")
        assertModelError(model(shared: "[{residual: [relu]}]", head: "[{dense: 10}, {residual: [relu]}]"), line: 7,
                         keyPath: "tasks.d.head[1]", "a cross_entropy head must end with a dense layer")
    }
}
