import XCTest
@testable import CanopyModel

/// Bad sharing schemes and graphs: each error names the file, line and key path.
///
/// `withScheme` puts YAML after `baseYAML`'s stem, so the scheme starts on line 12 and `tasks:` moves to line 13
/// (digit on 14, value on 15).
final class SchemeErrorTests: XCTestCase {
    func withScheme(_ text: String) -> String {
        base(replacing: "  - dense: 16\n", with: "  - dense: 16\n\(text)\n")
    }

    func testUnknownSchemeKeysGetSuggestions() {
        assertModelError(withScheme("mmeo: {experts: 2, expert: [relu]}"), line: 12, column: 1, keyPath: "mmeo",
                         "unknown key 'mmeo'", "did you mean 'mmoe'?")
        assertModelError(withScheme("mmoe: {experts: 2, expert: [{dense: 4}], gate: one}"), line: 12, column: 42,
                         keyPath: "mmoe.gate", "unknown key 'gate'", "did you mean 'gates'?")
        assertModelError(withScheme("mmoe: {experts: 2, expert: [{dense: 4}], gates: two}"), line: 12, column: 49,
                         keyPath: "mmoe.gates", "unknown gate sharing 'two'", "per_task, one")
        assertModelError(withScheme("mmoe: {expert: [{dense: 4}]}"), line: 12, keyPath: "mmoe.experts",
                         "missing required key 'experts'")
        assertModelError(withScheme("cross_stitch: {column: [{dense: 4}, relu], unit_after: [1]}"), line: 12,
                         keyPath: "cross_stitch.unit_after", "did you mean 'units_after'?")
        assertModelError(withScheme("soft_sharing: {column: [{dense: 4}], l1: 0.1}"), line: 12,
                         keyPath: "soft_sharing.l1", "did you mean 'l2'?")
        assertModelError(withScheme("soft_sharing: [{dense: 4}]"), line: 12, keyPath: "soft_sharing",
                         "expected a mapping such as {column:", "found a list")
        assertModelError(withScheme("graph: [{name: a, op: dense, unit: 4}]"), line: 12, keyPath: "graph[0].unit",
                         "unknown key 'unit'", "did you mean 'units'?")
        assertModelError(withScheme("graph: [{name: a, op: relu, units: 4}]"), line: 12, keyPath: "graph[0].units",
                         "unknown key 'units'", "expected one of: name, op, in")
        assertModelError(withScheme("graph: [{name: a, op: dens, units: 4}]"), line: 12, column: 23,
                         keyPath: "graph[0].op", "unknown op 'dens'", "did you mean 'dense'?")
        assertModelError(withScheme("graph: [{name: a, units: 4}]"), line: 12, keyPath: "graph[0].op",
                         "missing required key 'op'")
        assertModelError(withScheme("graph: [{op: relu}]"), line: 12, keyPath: "graph[0].name",
                         "missing required key 'name'")
        assertModelError(withScheme("graph: {a: relu}"), line: 12, keyPath: "graph", "expected a list of nodes")
        assertModelError(withScheme("task_gating: yes"), line: 12, keyPath: "task_gating",
                         "expected true or false, found 'yes'")
    }

    func testTwoSchemesAreRefusedNamingBoth() {
        let error = assertModelError(withScheme("mmoe: {experts: 2, expert: [relu]}\ngraph: [{name: a, op: relu}]"),
                                     line: 13, column: 1, keyPath: "graph", "at most one sharing scheme",
                                     "'mmoe' (line 12)", "'graph'")
        XCTAssertNotNil(error)
        assertModelError(withScheme("soft_sharing: {column: [relu]}\ncross_stitch: {column: [relu]}"), line: 13,
                         keyPath: "cross_stitch", "'soft_sharing' (line 12) and 'cross_stitch'")
    }

    func testBadUnitsAfter() {
        let column = "cross_stitch: {column: [{dense: 4}, relu, {dense: 3}, relu], units_after: "
        assertModelError(withScheme(column + "[1, 4]}"), line: 12, column: 79,
                         keyPath: "cross_stitch.units_after[1]", "layer index 4 is outside the column", "0...3")
        assertModelError(withScheme(column + "[1, 1]}"), line: 12, keyPath: "cross_stitch.units_after[1]",
                         "listed twice")
        assertModelError(withScheme(column + "[3, 1]}"), line: 12, keyPath: "cross_stitch.units_after[1]",
                         "ascending order", "1 follows 3")
        assertModelError(withScheme(column + "[-1]}"), line: 12, keyPath: "cross_stitch.units_after[0]",
                         "outside the column")
        assertModelError(withScheme(column + "[]}"), line: 12, keyPath: "cross_stitch.units_after",
                         "at least one unit")
        assertModelError(withScheme("cross_stitch: {column: [{dense: 4}, {dense: 3}]}"), line: 12,
                         keyPath: "cross_stitch.units_after", "this column has none", "give units_after")
        assertModelError(withScheme("cross_stitch: {column: [{dense: 4}, relu], self_weight: 1.5}"), line: 12,
                         keyPath: "cross_stitch.self_weight", "self_weight must be in (0, 1], got 1.5")
        assertModelError(withScheme("cross_stitch: {column: [{dense: 4}, relu]}")
                            .replacingOccurrences(of: "  value: {head: [{dense: 1}], loss: mse}\n", with: ""),
                         line: 12, keyPath: "cross_stitch", "has 1 task")
        assertModelError(withScheme("soft_sharing: {column: [{dense: 4}], l2: -1}"), line: 12,
                         keyPath: "soft_sharing.l2", "l2 must be a finite number ≥ 0")
        assertModelError(withScheme("mmoe: {experts: 0, expert: [{dense: 4}]}"), line: 12, keyPath: "mmoe.experts",
                         "experts must be in 1...1024, got 0")
        assertModelError(withScheme("mmoe: {experts: 2, expert: []}"), line: 12, keyPath: "mmoe.expert",
                         "at least one layer")
    }

    func testGraphReferences() {
        assertModelError(withScheme("graph: [{name: a, op: dense, units: 4}, {name: b, op: relu, in: aa}]"),
                         line: 12, column: 65, keyPath: "graph[1].in", "unknown input 'aa'", "did you mean 'a'?")
        assertModelError(withScheme("graph: [{name: a, op: relu, in: zzz}]"), line: 12, keyPath: "graph[0].in",
                         "unknown input 'zzz'", "(available: input)")
        let forward = """
            graph:
              - {name: a, op: dense, units: 4}
              - {name: s, op: add, in: [a, later]}
              - {name: later, op: dense, units: 4}
            """
        assertModelError(withScheme(forward), line: 14, column: 32, keyPath: "graph[1].in[1]",
                         "'later', which is defined later (graph[2])", "only 'input' and nodes written before it")
        assertModelError(withScheme("graph: [{name: a, op: relu, in: a}]"), line: 12, keyPath: "graph[0].in",
                         "a reads itself")
        let duplicate = """
            graph:
              - {name: a, op: dense, units: 4}
              - {name: a, op: relu}
            """
        assertModelError(withScheme(duplicate), line: 14, column: 12, keyPath: "graph[1].name",
                         "duplicate node name 'a'", "graph[0], line 13")
        assertModelError(withScheme("graph: [{name: input, op: relu}]"), line: 12, keyPath: "graph[0].name",
                         "'input' is reserved")
        assertModelError(withScheme("graph: [{name: 2a, op: relu}]"), line: 12, keyPath: "graph[0].name",
                         "must start with a letter or '_'")
        assertModelError(withScheme("graph: [{name: a, op: relu}, {name: b, op: dense, units: 2, in: [a, input]}]"),
                         line: 12, keyPath: "graph[1].in", "dense takes exactly one input, got 2")
        assertModelError(withScheme("graph: [{name: a, op: add}]"), line: 12, keyPath: "graph[0].in",
                         "add combines two or more inputs, got 1")
        assertModelError(withScheme("graph: []"), line: 12, keyPath: "graph", "at least one node")
        assertModelError(withScheme("graph: [{name: a, op: relu}]")
                            .replacingOccurrences(of: "loss: mse}", with: "loss: mse, in: b}"),
                         line: 15, keyPath: "tasks.value.in", "no graph node is named 'b'", "did you mean 'a'?")
        assertModelError(base(replacing: "loss: mse}", with: "loss: mse, in: x}"), line: 14,
                         keyPath: "tasks.value.in", "this model has no 'graph:'")
    }

    func testGraphShapes() {
        let add = """
            graph:
              - {name: a, op: dense, units: 4}
              - {name: b, op: dense, units: 5, in: input}
              - {name: s, op: add, in: [a, b]}
            """
        assertModelError(withScheme(add), line: 15, keyPath: "graph[2].in", "add needs inputs of one shape",
                         "'a' is 4 and 'b' is 5")
        assertModelError(withScheme(add.replacingOccurrences(of: "op: add", with: "op: multiply")), line: 15,
                         keyPath: "graph[2].in", "multiply needs inputs of one shape")
        let concat = """
            name: g
            data: {source: builtin:digits}
            input: {shape: [1, 8, 8]}
            graph:
              - {name: c, op: conv2d, filters: 3, kernel: 3}
              - {name: j, op: concat, in: [c, input]}
            tasks:
              digit: {head: [flatten, {dense: 10}], loss: cross_entropy}
            train: {optimizer: adam, batch_size: 4, epochs: 1}
            """
        assertModelError(concat, line: 6, keyPath: "graph[1].in", "concat joins its inputs along channels",
                         "'c' is 3×6×6 and 'input' is 1×8×8")
        assertModelError(concat.replacingOccurrences(of: "[c, input]", with: "[c, f]")
                            .replacingOccurrences(of: "  - {name: j", with: "  - {name: f, op: flatten}\n  - {name: j"),
                         line: 7, keyPath: "graph[2].in", "'c' is 3×6×6 and 'f' is 108")
        assertModelError(concat.replacingOccurrences(of: "kernel: 3}", with: "kernel: 9}"), line: 5,
                         keyPath: "graph[0].kernel", "kernel 9 is larger than its padded input 8×8")
        assertModelError(concat.replacingOccurrences(of: "{name: c, op: conv2d, filters: 3, kernel: 3}",
                                                      with: "{name: c, op: dense, units: 3}"),
                         line: 5, keyPath: "graph[0]", "dense needs a flat input but gets 1×8×8")
        assertModelError(concat.replacingOccurrences(of: "{name: c, op: conv2d, filters: 3, kernel: 3}",
                                                      with: "{name: c, op: dropout, p: 1.5}"),
                         line: 5, keyPath: "graph[0].p", "dropout probability must be in [0, 1)")
    }

    func testFlatInputsForGatesAndTaskGating() {
        let unflattened = base(replacing: "  - flatten\n  - dense: 16\n", with: "")
        assertModelError(unflattened.replacingOccurrences(of: "tasks:", with: "mmoe: {experts: 2, expert: [flatten, {dense: 4}]}\ntasks:"),
                         line: 10, keyPath: "mmoe", "the stem's output, which is 4×4×4", "end 'shared:' with 'flatten'")
        assertModelError(unflattened.replacingOccurrences(of: "tasks:", with: "task_gating: true\ntasks:"),
                         line: 10, keyPath: "task_gating", "task gating needs a flat input",
                         "task 'digit' reads 4×4×4")
    }

    func testFreezeAndInitFrom() throws {
        assertModelError(withScheme("freeze: [sharde]"), line: 12, keyPath: "freeze[0]",
                         "'sharde' names no parameter", "did you mean 'shared'?")
        assertModelError(withScheme("freeze: \"shared[1]\""), line: 12, keyPath: "freeze[0]",
                         "shared[1] (relu) has no parameters to freeze")
        assertModelError(withScheme("freeze: mmoe"), line: 12, keyPath: "freeze[0]", "'mmoe' names no parameter")
        let spec = try parseModel(withScheme("init_from: runs/pretrained.safetensors\nfreeze: shared"))
        XCTAssertEqual(spec.transfer.initFrom?.path, "/models/runs/pretrained.safetensors")
        XCTAssertEqual(spec.transfer.freeze, ["shared"])
    }
}
