/// What the sharing scheme (and task gating) gives the heads: its blocks, its parameters in graph order, and the
/// shape each task reads.
struct SchemeShapes {
    var sections: [ModelSummary.Section] = []
    var parameters: [ModelSummary.Parameter] = []
    /// The shape each task's head reads, in task order.
    var taskInputs: [[Int]]
}

/// Shapes and parameters of `mmoe:`, `cross_stitch:` and `soft_sharing:` (`graph:` is in GraphShapes), and of
/// task gating, with the exact parameter names the graph builder uses.
extension ShapeWalker {
    mutating func walkScheme(from stem: [Int]) throws -> SchemeShapes {
        switch spec.scheme {
        case .hard: return SchemeShapes(taskInputs: spec.tasks.map { _ in stem })
        case .mixtureOfExperts(let moe): return try walkExperts(moe, from: stem)
        case .crossStitch(let stitch): return try walkCrossStitch(stitch, from: stem)
        case .soft(let soft): return try walkTowers(soft, from: stem)
        case .graph(let nodes): return try walkGraph(nodes, from: stem)
        }
    }

    /// Experts `experts.<e>.<i>` read the (flat) stem output; gates `gates.<t>` (or `gates.all`) are
    /// [experts, stem width] weights with [experts] biases; each task reads a mixture of the experts' outputs.
    private mutating func walkExperts(_ moe: MixtureOfExpertsSpec, from stem: [Int]) throws -> SchemeShapes {
        guard stem.count == 1 else {
            throw spec.error(at: "mmoe", "the gates read the stem's output, which is \(ModelSummary.shape(stem)), "
                                + "but a gate needs a flat input; end 'shared:' with 'flatten'")
        }
        let experts = moe.experts
        let rows = try walk(moe.expert, from: stem, parameterPrefix: "experts.0")
        let output = rows.last?.outputShape ?? stem
        if output.count != 1, let last = moe.expert.last {
            throw ModelFileError(location: last.location, keyPath: last.keyPath,
                                 message: "an expert's output must be flat for the gates to mix it, but it is "
                                    + "\(ModelSummary.shape(output)); add 'flatten' (and a dense layer) at the end")
        }
        try countCopies(rows, extra: experts - 1, of: moe.expert)
        let prefixes = (0..<experts).map { "experts.\($0)" }
        var result = SchemeShapes(taskInputs: spec.tasks.map { _ in output })
        result.parameters = prefixes.flatMap { prefix in rows.flatMap { Self.renamed($0.parameters, "experts.0", prefix) } }
        let expertRows = rows.map { Self.copied($0, "experts.0", to: prefixes) }
        let width = stem[0]
        let gateNames = moe.gates == .one ? ["all"] : spec.tasks.map(\.name)
        let weight = saturatingProduct([experts, width])
        var gateRows: [ModelSummary.Row] = []
        for name in gateNames {
            try addToTotal(weight, at: "mmoe.gates", moe.location, what: "the gates")
            try addToTotal(experts, at: "mmoe.gates", moe.location, what: "the gates")
            let parameters = [ModelSummary.Parameter(name: "gates.\(name).weight", count: weight),
                              ModelSummary.Parameter(name: "gates.\(name).bias", count: experts)]
            gateRows.append(ModelSummary.Row(keyPath: "gates.\(name)", description: "softmax gate \(width)→\(experts)",
                                             inputShape: stem, outputShape: [experts], parameters: parameters))
            result.parameters += parameters
        }
        result.sections = [
            ModelSummary.Section(title: "experts", detail: "\(experts) ×", rows: expertRows, copies: experts),
            ModelSummary.Section(title: "gates", detail: moe.gates == .one ? "one for all tasks" : "one per task",
                                 rows: gateRows, copies: 1),
        ]
        return result
    }

    /// Columns `columns.<t>.<i>`, one per task; the unit after layer `i`, `cross_stitch.<i>.alpha`, is
    /// [tasks, tasks]. Graph order: for each layer index, every task's copy, then the unit after it.
    private mutating func walkCrossStitch(_ stitch: CrossStitchSpec, from stem: [Int]) throws -> SchemeShapes {
        let tasks = spec.tasks.map(\.name)
        let base = "columns.\(tasks[0])"
        let rows = try walk(stitch.column, from: stem, parameterPrefix: base)
        try countCopies(rows, extra: tasks.count - 1, of: stitch.column)
        let prefixes = tasks.map { "columns.\($0)" }
        let columnRows = rows.map { Self.copied($0, base, to: prefixes) }
        var result = SchemeShapes(taskInputs: tasks.map { _ in rows.last?.outputShape ?? stem })
        var unitRows: [ModelSummary.Row] = []
        let alpha = tasks.count * tasks.count
        for (index, row) in columnRows.enumerated() {
            result.parameters += row.parameters
            guard let k = stitch.unitsAfter.firstIndex(of: index) else { continue }
            let path = "cross_stitch.units_after[\(k)]"
            try addToTotal(alpha, at: path, spec.location(of: path), what: "a cross-stitch unit")
            let unit = ModelSummary.Parameter(name: "cross_stitch.\(index).alpha", count: alpha)
            unitRows.append(ModelSummary.Row(keyPath: path,
                                             description: "cross-stitch \(tasks.count)×\(tasks.count) after column[\(index)]",
                                             inputShape: row.outputShape, outputShape: row.outputShape,
                                             parameters: [unit]))
            result.parameters.append(unit)
        }
        result.sections = [
            ModelSummary.Section(title: "columns", detail: "per task ×\(tasks.count)", rows: columnRows,
                                 copies: tasks.count),
            ModelSummary.Section(title: "units", detail: "self weight \(stitch.selfWeight)", rows: unitRows, copies: 1),
        ]
        return result
    }

    /// Towers `towers.<t>.<i>`, one per task, tied only by the loss penalties; graph order task by task.
    private mutating func walkTowers(_ soft: SoftSharingSpec, from stem: [Int]) throws -> SchemeShapes {
        let tasks = spec.tasks.map(\.name)
        let base = "towers.\(tasks[0])"
        let rows = try walk(soft.column, from: stem, parameterPrefix: base)
        try countCopies(rows, extra: tasks.count - 1, of: soft.column)
        let prefixes = tasks.map { "towers.\($0)" }
        var result = SchemeShapes(taskInputs: tasks.map { _ in rows.last?.outputShape ?? stem })
        result.parameters = prefixes.flatMap { prefix in rows.flatMap { Self.renamed($0.parameters, base, prefix) } }
        result.sections = [
            ModelSummary.Section(title: "towers",
                                 detail: "per task ×\(tasks.count); l2 \(soft.l2), trace norm \(soft.traceNorm)",
                                 rows: rows.map { Self.copied($0, base, to: prefixes) }, copies: tasks.count),
        ]
        return result
    }

    /// `gating.<t>`: a [F, F] weight and [F] bias per task, on the flat width F the task reads.
    mutating func walkGating(_ inputs: [[Int]]) throws -> ModelSummary.Section {
        var rows: [ModelSummary.Row] = []
        for (task, shape) in zip(spec.tasks, inputs) {
            guard shape.count == 1 else {
                throw spec.error(at: "task_gating", "task gating needs a flat input, but task '\(task.name)' reads "
                                    + "\(ModelSummary.shape(shape)); end what it reads with 'flatten'")
            }
            let width = shape[0]
            let weight = saturatingProduct([width, width])
            let location = spec.location(of: "task_gating")
            try addToTotal(weight, at: "task_gating", location, what: "the gate of task '\(task.name)'")
            try addToTotal(width, at: "task_gating", location, what: "the gate of task '\(task.name)'")
            rows.append(ModelSummary.Row(keyPath: "gating.\(task.name)", description: "sigmoid gate \(width)",
                                         inputShape: shape, outputShape: shape,
                                         parameters: [.init(name: "gating.\(task.name).weight", count: weight),
                                                      .init(name: "gating.\(task.name).bias", count: width)]))
        }
        return ModelSummary.Section(title: "task gating", detail: "one per task", rows: rows, copies: 1)
    }

    /// Adds `extra` more copies of the rows' parameters to the running total.
    private mutating func countCopies(_ rows: [ModelSummary.Row], extra: Int, of layers: [LayerSpec]) throws {
        for (row, layer) in zip(rows, layers) where row.parameterCount > 0 {
            try addToTotal(saturatingProduct([row.parameterCount, extra]), at: layer.keyPath, layer.location,
                           what: "\(extra + 1) copies of \(layer.kind.description)")
        }
    }

    /// `parameters` with the name prefix `base` replaced by `prefix`.
    static func renamed(_ parameters: [ModelSummary.Parameter], _ base: String,
                        _ prefix: String) -> [ModelSummary.Parameter] {
        parameters.map { .init(name: prefix + $0.name.dropFirst(base.count), count: $0.count) }
    }

    /// `row` with its parameters repeated for every prefix, in prefix order.
    static func copied(_ row: ModelSummary.Row, _ base: String, to prefixes: [String]) -> ModelSummary.Row {
        var copy = row
        copy.parameters = prefixes.flatMap { renamed(row.parameters, base, $0) }
        return copy
    }
}
