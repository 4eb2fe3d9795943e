import CanopyCore
import XCTest
@testable import CanopyModel

/// `gradient_reversal` in model files: every way of writing it, its summary row, its graph node (an alias with no
/// parameters) and placed errors for a bad λ, in layer lists and graph nodes.
final class GradientReversalLayerTests: XCTestCase {
    /// A flat-input model with `shared` and a domain head spliced in.
    func model(shared: String = "[{dense: 8}, relu]",
               domainHead: String = "[gradient_reversal, {dense: 2}]") -> String {
        """
        name: s
        data: {source: builtin:digits}
        input: {shape: [64]}
        shared: \(shared)
        tasks:
          d: {head: [{dense: 10}], loss: cross_entropy}
          domain: {head: \(domainHead), loss: cross_entropy}
        train: {optimizer: adam, batch_size: 4, epochs: 1}
        """
    }

    func testEveryFormReadsTheSameLayer() throws {
        func layer(_ written: String) throws -> LayerKind {
            try parseModel(model(domainHead: "[\(written), {dense: 2}]")).tasks[1].head[0].kind
        }
        XCTAssertEqual(try layer("gradient_reversal"), .gradientReversal(lambda: 1))
        XCTAssertEqual(try layer("{gradient_reversal: 0.5}"), .gradientReversal(lambda: 0.5))
        XCTAssertEqual(try layer("{gradient_reversal: {lambda: 0.25}}"), .gradientReversal(lambda: 0.25))
        XCTAssertEqual(try layer("{gradient_reversal: 0}"), .gradientReversal(lambda: 0))
    }

    func testSummaryRowAndGraphNode() throws {
        let spec = try parseModel(model(domainHead: "[{gradient_reversal: 0.5}, {dense: 2}]"))
        let summary = try summarize(spec)
        let domain = summary.tasks[1]
        XCTAssertEqual(domain.rows.map(\.description), ["gradient_reversal λ=0.5", "dense 2"])
        XCTAssertEqual(domain.rows.map(\.outputShape), [[8], [2]])
        XCTAssertEqual(domain.rows.map(\.parameterCount), [0, 18])
        XCTAssertTrue(summary.render().contains("gradient_reversal λ=0.5"), summary.render())
        let graph = try ModelGraph.build(spec, batchSize: 3).graph
        let reversals = graph.nodes.filter { $0.op == .gradientReversal(lambda: 0.5) }
        XCTAssertEqual(reversals.count, 1)
        XCTAssertEqual(reversals.first?.label, "tasks.domain.head[0]")
        XCTAssertEqual(reversals.first?.outputShapes, [[3, 8]])
        XCTAssertTrue(graph.nodes.contains { $0.op == .scale(-0.5) }, "the backward pass scales by −λ")
    }

    func testGraphNode() throws {
        let text = model(shared: "[]").replacingOccurrences(of: "tasks:", with: """
            graph:
              - {name: h, op: dense, units: 8}
              - {name: r, op: gradient_reversal, in: h, lambda: 0.5}
              - {name: both, op: concat, in: [h, r]}
            tasks:
            """)
        let summary = try summarize(try parseModel(text))
        let rows = summary.sections.flatMap(\.rows)
        XCTAssertEqual(rows.map(\.description), ["h = dense 8 ← input", "r = gradient_reversal λ=0.5 ← h",
                                                 "both = concat ← h, r"])
        XCTAssertEqual(rows.map(\.outputShape), [[8], [8], [16]])
    }

    func testPlacedErrorsForABadLambda() {
        assertModelError(model(domainHead: "[{gradient_reversal: -1}, {dense: 2}]"), line: 7,
                         keyPath: "tasks.domain.head[0].gradient_reversal.lambda",
                         "gradient_reversal's lambda must be a finite number ≥ 0, got -1.0")
        assertModelError(model(domainHead: "[{gradient_reversal: {lambda: -0.5}}, {dense: 2}]"), line: 7,
                         keyPath: "tasks.domain.head[0].gradient_reversal.lambda", "got -0.5")
        assertModelError(model(domainHead: "[{gradient_reversal: .nan}, {dense: 2}]"), line: 7,
                         keyPath: "tasks.domain.head[0].gradient_reversal", "expected a number")
        assertModelError(model(domainHead: "[{gradient_reversal: {lambda: x}}, {dense: 2}]"), line: 7,
                         keyPath: "tasks.domain.head[0].gradient_reversal.lambda", "expected a number")
        assertModelError(model(domainHead: "[{gradient_reversal: {lamda: 1}}, {dense: 2}]"), line: 7,
                         keyPath: "tasks.domain.head[0].gradient_reversal.lamda", "unknown key 'lamda'", "lambda")
        let graph = model(shared: "[]").replacingOccurrences(of: "tasks:", with: """
            graph:
              - {name: h, op: dense, units: 8}
              - {name: r, op: gradient_reversal, in: h, lambda: -2}
            tasks:
            """)
        assertModelError(graph, line: 7, keyPath: "graph[1].lambda", "lambda must be a finite number ≥ 0, got -2.0")
    }

    // MARK: schedule

    func testBothFormsReadTheSchedule() throws {
        func layer(_ written: String) throws -> LayerKind {
            try parseModel(model(domainHead: "[\(written), {dense: 2}]")).tasks[1].head[0].kind
        }
        XCTAssertEqual(try layer("{gradient_reversal: {lambda: 1.0, schedule: ganin}}"),
                       .gradientReversal(lambda: 1, schedule: .ganin))
        XCTAssertEqual(try layer("{gradient_reversal: {schedule: ganin}}"), .gradientReversal(lambda: 1, schedule: .ganin))
        XCTAssertEqual(try layer("{gradient_reversal: {lambda: 0.5, schedule: constant}}"), .gradientReversal(lambda: 0.5))
        XCTAssertEqual(try layer("{gradient_reversal: {lambda: 0.5}}"), .gradientReversal(lambda: 0.5, schedule: .constant))
        let text = model(shared: "[]").replacingOccurrences(of: "tasks:", with: """
            graph:
              - {name: h, op: dense, units: 8}
              - {name: r, op: gradient_reversal, in: h, lambda: 0.5, schedule: ganin}
              - {name: both, op: concat, in: [h, r]}
            tasks:
            """)
        let rows = try summarize(try parseModel(text)).sections.flatMap(\.rows)
        XCTAssertEqual(rows.map(\.description)[1], "r = gradient_reversal λ=0.5 ganin ← h")
    }

    /// A scheduled reversal reads the schedule's one [1] input (shared by every such layer); a constant one reads
    /// none, so its graph is the one it always was.
    func testAScheduledReversalReadsTheFactorInput() throws {
        let spec = try parseModel(model(shared: "[{dense: 8}, {gradient_reversal: {schedule: ganin}}, relu]",
                                        domainHead: "[{gradient_reversal: {lambda: 0.5, schedule: ganin}}, {dense: 2}]"))
        let graph = try ModelGraph.build(spec, batchSize: 3).graph
        let factor = try XCTUnwrap(graph.input(named: "gradient_reversal.ganin"))
        XCTAssertEqual(graph.shape(of: factor), [1])
        let reversals = graph.nodes.filter { if case .gradientReversal = $0.op { return true } else { return false } }
        XCTAssertEqual(reversals.map(\.inputs.count), [2, 2])
        XCTAssertEqual(reversals.map(\.inputs[1]), [factor, factor])
        XCTAssertEqual(summarizedRows(spec), ["gradient_reversal λ=0.5 ganin", "dense 2"])

        let constant = try ModelGraph.build(try parseModel(model(domainHead: "[{gradient_reversal: 0.5}, {dense: 2}]")),
                                            batchSize: 3).graph
        XCTAssertNil(constant.input(named: "gradient_reversal.ganin"))
        XCTAssertEqual(constant.nodes.filter { $0.op == .gradientReversal(lambda: 0.5) }.map(\.inputs.count), [1])
    }

    private func summarizedRows(_ spec: ModelSpec) -> [String] {
        ((try? summarize(spec))?.tasks[1].rows ?? []).map(\.description)
    }

    func testPlacedErrorForAnUnknownSchedule() {
        assertModelError(model(domainHead: "[{gradient_reversal: {schedule: ganim}}, {dense: 2}]"), line: 7,
                         keyPath: "tasks.domain.head[0].gradient_reversal.schedule", "unknown schedule 'ganim'",
                         "did you mean 'ganin'?")
        assertModelError(model(domainHead: "[{gradient_reversal: {schedule: 1}}, {dense: 2}]"), line: 7,
                         keyPath: "tasks.domain.head[0].gradient_reversal.schedule", "unknown schedule '1'")
    }
}
