import XCTest
@testable import CanopyModel

/// Shapes, parameter names (exactly as the graph builder names them) and their order for every sharing scheme.
///
/// All models here use `baseYAML`'s stem (conv2d 4 → relu → maxpool → flatten → dense 16, output [16]) and its
/// tasks `digit` (cross_entropy, dense 10) and `value` (mse, dense 1), with a scheme spliced in after the stem.
final class SchemeSummaryTests: XCTestCase {
    /// The stem's parameters, first in every model.
    let stem: [ModelSummary.Parameter] = [.init(name: "shared.0.weight", count: 36), .init(name: "shared.0.bias", count: 4),
                                          .init(name: "shared.4.weight", count: 1024), .init(name: "shared.4.bias", count: 16)]

    /// `baseYAML` with `scheme` (YAML lines) after the stem and the two tasks' heads reading `width` features.
    func summary(_ scheme: String) throws -> ModelSummary {
        try summarize(try parseModel(base(replacing: "  - dense: 16\n", with: "  - dense: 16\n\(scheme)\n")))
    }

    func heads(width: Int) -> [ModelSummary.Parameter] {
        [.init(name: "tasks.digit.head.0.weight", count: 10 * width), .init(name: "tasks.digit.head.0.bias", count: 10),
         .init(name: "tasks.value.head.0.weight", count: width), .init(name: "tasks.value.head.0.bias", count: 1)]
    }

    func assertParameters(_ summary: ModelSummary, _ expected: [ModelSummary.Parameter],
                          file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(summary.parameters.map(\.name), expected.map(\.name), file: file, line: line)
        XCTAssertEqual(summary.parameters.map(\.count), expected.map(\.count), file: file, line: line)
        let total = expected.reduce(0) { $0 + $1.count }
        XCTAssertEqual(summary.totalParameterCount, total, file: file, line: line)
        let inRows = summary.allRows.flatMap(\.parameters)
        XCTAssertEqual(Set(inRows.map(\.name)), Set(expected.map(\.name)), "rows hold every parameter once",
                       file: file, line: line)
        XCTAssertEqual(inRows.count, expected.count, file: file, line: line)
        print("  \(summary.scheme): \(summary.parameters.count) tensors, \(total) scalars")
    }

    func testMixtureOfExperts() throws {
        let summary = try summary("mmoe: {experts: 2, expert: [{dense: 4}, relu]}")
        assertParameters(summary, stem + [
            .init(name: "experts.0.0.weight", count: 64), .init(name: "experts.0.0.bias", count: 4),
            .init(name: "experts.1.0.weight", count: 64), .init(name: "experts.1.0.bias", count: 4),
            .init(name: "gates.digit.weight", count: 32), .init(name: "gates.digit.bias", count: 2),
            .init(name: "gates.value.weight", count: 32), .init(name: "gates.value.bias", count: 2),
        ] + heads(width: 4))
        XCTAssertEqual(summary.scheme, "mmoe")
        XCTAssertEqual(summary.tasks.map(\.inputShape), [[4], [4]])
        XCTAssertEqual(summary.tasks.map(\.outputShape), [[10], [1]])
        XCTAssertEqual(summary.sections.map(\.title), ["experts", "gates"])
        XCTAssertEqual(summary.sections[0].copies, 2)
        XCTAssertEqual(summary.sections[0].rows.map(\.keyPath), ["mmoe.expert[0]", "mmoe.expert[1]"])
        XCTAssertEqual(summary.sections[1].rows.map(\.outputShape), [[2], [2]])
        // Shared: stem 1,080 + experts 136; per task: gate 34 + head.
        XCTAssertEqual(summary.sharedParameterCount, 1080 + 136)
        XCTAssertEqual(summary.parameterCount(ofTask: "digit"), 34 + 50)
        XCTAssertEqual(summary.parameterCount(ofTask: "value"), 34 + 5)
        XCTAssertEqual(summary.tasks[0].parameterCount, 50, "a task's own parameterCount stays the head's")
    }

    func testOneGateMixtureSharesTheGate() throws {
        let summary = try summary("mmoe: {experts: 3, expert: [{dense: 4}], gates: one}")
        assertParameters(summary, stem + (0..<3).flatMap { e -> [ModelSummary.Parameter] in
            [.init(name: "experts.\(e).0.weight", count: 64), .init(name: "experts.\(e).0.bias", count: 4)]
        } + [.init(name: "gates.all.weight", count: 48), .init(name: "gates.all.bias", count: 3)] + heads(width: 4))
        XCTAssertEqual(summary.sharedParameterCount, 1080 + 3 * 68 + 51)
        XCTAssertNil(summary.owner(ofParameter: "gates.all.weight"))
    }

    func testCrossStitchInterleavesColumnsAndUnits() throws {
        let summary = try summary("cross_stitch: {column: [{dense: 6}, relu, {dense: 5}, relu]}")
        assertParameters(summary, stem + [
            .init(name: "columns.digit.0.weight", count: 96), .init(name: "columns.digit.0.bias", count: 6),
            .init(name: "columns.value.0.weight", count: 96), .init(name: "columns.value.0.bias", count: 6),
            .init(name: "cross_stitch.1.alpha", count: 4),
            .init(name: "columns.digit.2.weight", count: 30), .init(name: "columns.digit.2.bias", count: 5),
            .init(name: "columns.value.2.weight", count: 30), .init(name: "columns.value.2.bias", count: 5),
            .init(name: "cross_stitch.3.alpha", count: 4),
        ] + heads(width: 5))
        guard case .crossStitch(let stitch) = try parseModel(base(replacing: "  - dense: 16\n", with:
            "  - dense: 16\ncross_stitch: {column: [{dense: 6}, relu, {dense: 5}, relu]}\n")).scheme else {
            return XCTFail("expected cross_stitch")
        }
        XCTAssertEqual(stitch.unitsAfter, [1, 3], "default: after each activation that follows dense/conv2d")
        XCTAssertEqual(stitch.selfWeight, 0.9)
        XCTAssertEqual(summary.sharedParameterCount, 1080 + 8)
        XCTAssertEqual(summary.parameterCount(ofTask: "value"), 102 + 35 + 6)
        XCTAssertEqual(summary.sections[1].rows.map(\.keyPath),
                       ["cross_stitch.units_after[0]", "cross_stitch.units_after[1]"])
    }

    func testSoftSharingTowersTaskByTask() throws {
        let summary = try summary("soft_sharing: {column: [{dense: 6}, relu, {dense: 3}], l2: 0.5}")
        assertParameters(summary, stem + ["digit", "value"].flatMap { t -> [ModelSummary.Parameter] in
            [.init(name: "towers.\(t).0.weight", count: 96), .init(name: "towers.\(t).0.bias", count: 6),
             .init(name: "towers.\(t).2.weight", count: 18), .init(name: "towers.\(t).2.bias", count: 3)]
        } + heads(width: 3))
        XCTAssertEqual(summary.sharedParameterCount, 1080)
        XCTAssertEqual(summary.sections[0].detail, "per task ×2; l2 0.5, trace norm 0.0")
    }

    func testGraphNodesResidualAndConcat() throws {
        let graph = """
            graph:
              - {name: a, op: dense, units: 8}
              - {name: r, op: relu}
              - {name: s, op: add, in: [r, a]}
              - {name: c, op: concat, in: [s, input]}
              - {name: b, op: dense, units: 3}
            """
        let text = base(replacing: "  - dense: 16\n", with: "  - dense: 16\n\(graph)\n")
        let summary = try summarize(try parseModel(text.replacingOccurrences(of: "loss: mse}", with: "loss: mse, in: c}")))
        assertParameters(summary, stem + [
            .init(name: "graph.a.weight", count: 128), .init(name: "graph.a.bias", count: 8),
            .init(name: "graph.b.weight", count: 72), .init(name: "graph.b.bias", count: 3),
            .init(name: "tasks.digit.head.0.weight", count: 30), .init(name: "tasks.digit.head.0.bias", count: 10),
            .init(name: "tasks.value.head.0.weight", count: 24), .init(name: "tasks.value.head.0.bias", count: 1),
        ])
        XCTAssertEqual(summary.sections[0].rows.map(\.outputShape), [[8], [8], [8], [24], [3]])
        XCTAssertEqual(summary.sections[0].rows[3].description, "c = concat ← s, input")
        XCTAssertEqual(summary.tasks.map(\.inputShape), [[3], [24]])
        guard case .graph(let nodes) = try parseModel(text).scheme else { return XCTFail("expected a graph") }
        XCTAssertEqual(nodes.map(\.inputs), [["input"], ["a"], ["r", "a"], ["s", "input"], ["c"]],
                       "a node without in: reads the node before it")
        XCTAssertEqual(nodes[0].op, .layer(.dense(units: 8)))
    }

    func testConcatOfChannelsAndConvNodes() throws {
        let text = """
            name: g
            data: {source: builtin:digits}
            input: {shape: [1, 8, 8]}
            graph:
              - {name: c, op: conv2d, filters: 3, kernel: 3, padding: 1}
              - {name: p, op: maxpool, kernel: 2, stride: 2}
              - {name: q, op: maxpool, kernel: 2, in: input}
              - {name: j, op: concat, in: [p, q]}
              - {name: f, op: flatten}
              - {name: d, op: dropout, p: 0.25}
            tasks:
              digit: {head: [{dense: 10}], loss: cross_entropy}
            train: {optimizer: adam, batch_size: 4, epochs: 1}
            """
        let summary = try summarize(try parseModel(text))
        XCTAssertEqual(summary.sections[0].rows.map(\.outputShape), [[3, 8, 8], [3, 4, 4], [1, 4, 4], [4, 4, 4],
                                                                     [64], [64]])
        XCTAssertEqual(summary.parameters.map(\.name), ["graph.c.weight", "graph.c.bias", "tasks.digit.head.0.weight",
                                                        "tasks.digit.head.0.bias"])
        XCTAssertEqual(summary.parameters.map(\.count), [27, 3, 640, 10])
    }

    func testTaskGatingComesAfterTheSchemeAndBeforeTheHeads() throws {
        let summary = try summary("task_gating: true")
        assertParameters(summary, stem + [
            .init(name: "gating.digit.weight", count: 256), .init(name: "gating.digit.bias", count: 16),
            .init(name: "gating.value.weight", count: 256), .init(name: "gating.value.bias", count: 16),
        ] + heads(width: 16))
        let moe = try self.summary("task_gating: true\nmmoe: {experts: 2, expert: [{dense: 4}]}")
        XCTAssertEqual(moe.parameters.map(\.name).filter { !$0.hasPrefix("shared.") }, [
            "experts.0.0.weight", "experts.0.0.bias", "experts.1.0.weight", "experts.1.0.bias",
            "gates.digit.weight", "gates.digit.bias", "gates.value.weight", "gates.value.bias",
            "gating.digit.weight", "gating.digit.bias", "gating.value.weight", "gating.value.bias",
            "tasks.digit.head.0.weight", "tasks.digit.head.0.bias", "tasks.value.head.0.weight",
            "tasks.value.head.0.bias",
        ])
        XCTAssertEqual(moe.parameters.first { $0.name == "gating.value.weight" }?.count, 16)
        XCTAssertEqual(moe.parameterCount(ofTask: "digit"), 34 + 20 + 50)
    }

    func testFreezeEntriesNameParameters() throws {
        let text = base(replacing: "  - dense: 16\n", with: """
              - dense: 16
            mmoe: {experts: 2, expert: [{dense: 4}, relu, {dense: 3}]}
            freeze: [shared, experts.1, "tasks.value.head[0]", "mmoe.expert[2]"]

            """)
        let spec = try parseModel(text)
        XCTAssertEqual(spec.transfer.freeze, ["shared", "experts.1", "tasks.value.head[0]", "mmoe.expert[2]"])
        let summary = try summarize(spec)
        XCTAssertEqual(summary.parameterNames(frozenBy: "shared"), stem.map(\.name))
        XCTAssertEqual(summary.parameterNames(frozenBy: "experts.1"),
                       ["experts.1.0.weight", "experts.1.0.bias", "experts.1.2.weight", "experts.1.2.bias"])
        XCTAssertEqual(summary.parameterNames(frozenBy: "mmoe.expert[2]"),
                       ["experts.0.2.weight", "experts.0.2.bias", "experts.1.2.weight", "experts.1.2.bias"])
        XCTAssertEqual(summary.parameterNames(frozenBy: "mmoe").count, 12)
        XCTAssertEqual(summary.parameterNames(frozenBy: "tasks.value"),
                       ["tasks.value.head.0.weight", "tasks.value.head.0.bias"])
        XCTAssertEqual(summary.parameterNames(frozenBy: "experts.1.0"), ["experts.1.0.weight", "experts.1.0.bias"])
        XCTAssertEqual(summary.parameterNames(frozenBy: "experts.1.0.w"), [], "prefixes end at a dot")
        XCTAssertEqual(summary.frozenParameterNames(spec.transfer.freeze).count, 4 + 4 + 2 + 2)
    }

    func testRenderShowsEveryBlock() throws {
        let moe = try summary("mmoe: {experts: 2, expert: [{dense: 4}, relu]}").render()
        print(moe)
        for phrase in ["model t (mmoe)", "experts (2 ×)", "  mmoe.expert[0]", "2 × 68", "  experts total",
                       "gates (one per task)", "gates.digit", "softmax gate 16→2", "stem total", "shared total",
                       "tasks.digit total", "counts what task t owns"] {
            XCTAssertTrue(moe.contains(phrase), "render lacks '\(phrase)'")
        }
        let stitch = try summary("cross_stitch: {column: [{dense: 6}, relu]}").render()
        print(stitch)
        for phrase in ["columns (per task ×2)", "2 × 102", "units (self weight 0.9)",
                       "cross-stitch 2×2 after column[1]"] {
            XCTAssertTrue(stitch.contains(phrase), "render lacks '\(phrase)'")
        }
        let hard = try summarize(try parseModel(baseYAML)).render()
        XCTAssertTrue(hard.hasPrefix("model t\n"))
        XCTAssertFalse(hard.contains("stem total"), "hard sharing renders as before")
    }
}
