import CanopyCore

/// What a sharing scheme hands to the task heads.
struct SchemeOutput {
    /// What each task's head reads, in task order.
    var taskInputs: [Value]
    /// The representation every task reads before its own parameters, when there is one (MGDA-UB needs it).
    var sharedRepresentation: Value?
    /// Groups of corresponding per-task parameters that soft sharing ties together (one group per tower tensor).
    var tiedParameters: [[Value]] = []
    /// The scheme's blocks (then the task gates) as the summary shows them.
    var sections: [ModelSummary.Section] = []
}

extension ModelBuilder {
    /// Builds the scheme on top of the stem's output, then the optional per-task gates.
    func appendScheme(stem: Value) throws -> SchemeOutput {
        let tasks = spec.tasks.map(\.name)
        var output: SchemeOutput
        switch spec.scheme {
        case .hard:
            output = SchemeOutput(taskInputs: tasks.map { _ in stem }, sharedRepresentation: stem)
        case let .mixtureOfExperts(moe):
            output = try appendMixtureOfExperts(moe, tasks: tasks, stem: stem)
        case let .crossStitch(crossStitch):
            output = try appendCrossStitch(crossStitch, tasks: tasks, stem: stem)
        case let .soft(soft):
            var towers: [[Value]] = []
            var inputs: [Value] = []
            var rows = RowLog()
            for task in tasks {
                // Only trained parameters are tied (running statistics follow their own tower's data).
                let before = graph.trainableParameters.count
                inputs.append(try appendLayers(soft.column, to: stem, prefix: "towers.\(task)", copies: tasks.count,
                                               rows: &rows))
                towers.append(Array(graph.trainableParameters[before...]))
            }
            let tied = towers.first.map { first in first.indices.map { i in towers.map { $0[i] } } } ?? []
            output = SchemeOutput(taskInputs: inputs, sharedRepresentation: nil, tiedParameters: tied)
            output.sections = [ModelSummary.Section(title: "towers", detail: "per task ×\(tasks.count); "
                                                        + "l2 \(soft.l2), trace norm \(soft.traceNorm)",
                                                    rows: rows.rows, copies: tasks.count)]
        case let .graph(nodes):
            output = try appendGraphNodes(nodes, stem: stem)
        case let .mtan(mtan):
            output = try appendMTAN(mtan, tasks: tasks, stem: stem)
        }
        if spec.taskGating { try appendTaskGates(&output) }
        return output
    }

    /// `gating.<t>`: per task, `z ← z ⊙ σ(W·z + b)` with W [F, F] and b [F] on the flat width F the task reads.
    private func appendTaskGates(_ output: inout SchemeOutput) throws {
        var rows = RowLog()
        for (t, task) in spec.tasks.map(\.name).enumerated() {
            let z = output.taskInputs[t]
            let input = shape(of: z)
            guard input.count == 1 else {
                throw spec.error(at: "task_gating", "task gating needs a flat input, but task '\(task)' reads "
                                    + "\(ModelSummary.shape(input)); end what it reads with 'flatten'")
            }
            let site = LayerSite(keyPath: "task_gating", location: spec.location(of: "task_gating"), spec: spec)
            let (logits, parameters) = try apply(DenseLayer(units: input[0]), to: z, name: "gating.\(task)",
                                                 label: "task_gating.\(task)", site: site,
                                                 what: "the gate of task '\(task)'")
            let gate = graph.unary(.sigmoid, logits)
            output.taskInputs[t] = try graph.binary(.multiply, z, gate, label: "task_gating.\(task)")
            rows.add("gating.\(task)", "sigmoid gate \(input[0])", input: input, output: input, parameters)
        }
        output.sections.append(ModelSummary.Section(title: "task gating", detail: "one per task", rows: rows.rows,
                                                    copies: 1))
    }

    /// MMoE (per-task softmax gates) or OMoE (one gate): each task reads Σ_e gate_e · expert_e(stem). Experts
    /// `experts.<e>.<i>` read the (flat) stem output; gates `gates.<t>` (or `gates.all`) are dense layers from the
    /// stem's width to one logit per expert.
    private func appendMixtureOfExperts(_ moe: MixtureOfExpertsSpec, tasks: [String], stem: Value) throws -> SchemeOutput {
        let stemShape = shape(of: stem)
        guard stemShape.count == 1 else {
            throw spec.error(at: "mmoe", "the gates read the stem's output, which is \(ModelSummary.shape(stemShape)), "
                                + "but a gate needs a flat input; end 'shared:' with 'flatten'")
        }
        var rows = RowLog()
        let stacked: Value
        if let fused = try appendFusedExperts(moe, stem: stem, rows: &rows) {
            stacked = fused
        } else {
            var experts: [Value] = []
            for e in 0..<moe.experts {
                experts.append(try appendLayers(moe.expert, to: stem, prefix: "experts.\(e)", copies: moe.experts,
                                                rows: &rows))
                let output = shape(of: experts[0])
                if e == 0, output.count != 1, let last = moe.expert.last {
                    throw ModelFileError(location: last.location, keyPath: last.keyPath,
                                         message: "an expert's output must be flat for the gates to mix it, but it is "
                                            + "\(ModelSummary.shape(output)); add 'flatten' (and a dense layer) at the end")
                }
            }
            let expertShape = graph.shape(of: experts[0])
            stacked = try graph.reshape(try graph.concat(experts, axis: 1, label: moe.keyPath),
                                        to: [expertShape[0], moe.experts, expertShape[1]], label: moe.keyPath)
        }
        var gateRows = RowLog()
        func gate(_ name: String) throws -> Value {
            let site = LayerSite(keyPath: "\(moe.keyPath).gates", location: moe.location, spec: spec)
            let (logits, parameters) = try apply(DenseLayer(units: moe.experts), to: stem, name: "gates.\(name)",
                                                 site: site, what: "the gates")
            gateRows.add("gates.\(name)", "softmax gate \(stemShape[0])→\(moe.experts)", input: stemShape,
                         output: [moe.experts], parameters)
            return graph.softmax(logits)
        }
        let inputs: [Value]
        switch moe.gates {
        case .perTask:
            inputs = try tasks.map { try graph.mixture(gates: try gate($0), values: stacked, label: moe.keyPath) }
        case .one:
            let mixed = try graph.mixture(gates: try gate("all"), values: stacked, label: moe.keyPath)
            inputs = tasks.map { _ in mixed }
        }
        var output = SchemeOutput(taskInputs: inputs, sharedRepresentation: stacked)
        output.sections = [
            ModelSummary.Section(title: "experts", detail: "\(moe.experts) ×", rows: rows.rows, copies: moe.experts),
            ModelSummary.Section(title: "gates", detail: moe.gates == .one ? "one for all tasks" : "one per task",
                                 rows: gateRows.rows, copies: 1),
        ]
        return output
    }

    /// One column per task (`columns.<t>.<i>`); after each listed layer `i` a unit `cross_stitch.<i>.alpha`
    /// [tasks, tasks] mixes the columns: x̃_t = Σ_s α_ts·x_s. Graph order: for each layer, every task's copy, then
    /// the unit after it.
    private func appendCrossStitch(_ stitch: CrossStitchSpec, tasks: [String], stem: Value) throws -> SchemeOutput {
        var columns = tasks.map { _ in stem }
        let count = tasks.count
        var columnRows = RowLog(), unitRows = RowLog()
        for (i, layer) in stitch.column.enumerated() {
            for (t, task) in tasks.enumerated() {
                columns[t] = try appendLayer(layer, to: columns[t], name: "columns.\(task).\(i)", copies: count,
                                             rows: &columnRows)
            }
            guard let k = stitch.unitsAfter.firstIndex(of: i), count > 1 else { continue }
            let off = (1 - stitch.selfWeight) / Float(count - 1)
            let initial = (0..<count * count).map { $0 / count == $0 % count ? stitch.selfWeight : off }
            let path = "cross_stitch.units_after[\(k)]"
            let name = "cross_stitch.\(i).alpha"
            let alpha = try parameter(name, shape: [count, count], initializer: .values(initial), at: path,
                                      spec.location(of: path), what: "a cross-stitch unit")
            let shape = graph.shape(of: columns[0])
            let label = "\(stitch.keyPath).units_after[\(i)]"
            let stacked = try graph.reshape(try graph.concat(columns, axis: 0, label: label),
                                            to: [count, shape.reduce(1, *)], label: label)
            let mixed = try graph.reshape(try graph.matmul(alpha, stacked, label: label),
                                          to: [count * shape[0]] + shape.dropFirst(), label: label)
            columns = try (0..<count).map { try graph.slice(mixed, axis: 0, start: $0 * shape[0], length: shape[0], label: label) }
            unitRows.add(path, "cross-stitch \(count)×\(count) after column[\(i)]", input: self.shape(of: columns[0]),
                         output: self.shape(of: columns[0]), [ModelSummary.Parameter(name: name, count: count * count)])
        }
        var output = SchemeOutput(taskInputs: columns, sharedRepresentation: nil)
        output.sections = [
            ModelSummary.Section(title: "columns", detail: "per task ×\(count)", rows: columnRows.rows, copies: count),
            ModelSummary.Section(title: "units", detail: "self weight \(stitch.selfWeight)", rows: unitRows.rows,
                                 copies: 1),
        ]
        return output
    }
}
