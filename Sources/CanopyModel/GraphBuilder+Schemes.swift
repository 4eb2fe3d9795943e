import CanopyCore

/// What a sharing scheme hands to the task heads.
struct SchemeOutput {
    /// What each task's head reads, in task order.
    var taskInputs: [Value]
    /// The representation every task reads before its own parameters, when there is one (MGDA-UB needs it).
    var sharedRepresentation: Value?
    /// Groups of corresponding per-task parameters that soft sharing ties together (one group per tower tensor).
    var tiedParameters: [[Value]] = []
}

extension ModelGraph {
    /// Builds the scheme on top of the stem's output, then the optional per-task gates.
    static func appendScheme(_ spec: ModelSpec, stem: Value, in graph: Graph) throws -> SchemeOutput {
        let tasks = spec.tasks.map(\.name)
        var output: SchemeOutput
        switch spec.scheme {
        case .hard:
            output = SchemeOutput(taskInputs: tasks.map { _ in stem }, sharedRepresentation: stem)
        case let .mixtureOfExperts(moe):
            output = try appendMixtureOfExperts(moe, tasks: tasks, stem: stem, in: graph)
        case let .crossStitch(crossStitch):
            output = try appendCrossStitch(crossStitch, tasks: tasks, stem: stem, in: graph)
        case let .soft(soft):
            var towers: [[Value]] = []
            var inputs: [Value] = []
            for task in tasks {
                let before = graph.parameters.count
                inputs.append(try appendLayers(soft.column, to: stem, prefix: "towers.\(task)", in: graph))
                towers.append(Array(graph.parameters[before...]))
            }
            let tied = towers.first.map { first in first.indices.map { i in towers.map { $0[i] } } } ?? []
            output = SchemeOutput(taskInputs: inputs, sharedRepresentation: nil, tiedParameters: tied)
        case let .graph(nodes):
            output = try appendGraphNodes(nodes, tasks: spec.tasks, stem: stem, in: graph)
        }
        if spec.taskGating {
            for (t, task) in tasks.enumerated() {
                let z = output.taskInputs[t]
                let gate = graph.unary(.sigmoid, try dense(z, units: graph.shape(of: z)[1], name: "gating.\(task)",
                                                           label: "task_gating.\(task)", in: graph))
                output.taskInputs[t] = try graph.binary(.multiply, z, gate, label: "task_gating.\(task)")
            }
        }
        return output
    }

    /// MMoE (per-task softmax gates) or OMoE (one gate): each task reads Σ_e gate_e · expert_e(stem).
    private static func appendMixtureOfExperts(_ moe: MixtureOfExpertsSpec, tasks: [String], stem: Value,
                                               in graph: Graph) throws -> SchemeOutput {
        let experts = try (0..<moe.experts).map {
            try appendLayers(moe.expert, to: stem, prefix: "experts.\($0)", in: graph)
        }
        let expertShape = graph.shape(of: experts[0])
        guard expertShape.count == 2 else {
            throw ModelFileError(location: moe.location, keyPath: "\(moe.keyPath).expert",
                                 message: "an expert's output must be flat, got \(Array(expertShape.dropFirst())); add 'flatten'")
        }
        let (batch, features) = (expertShape[0], expertShape[1])
        let stacked = try graph.reshape(try graph.concat(experts, axis: 1, label: moe.keyPath),
                                        to: [batch, moe.experts, features], label: moe.keyPath)
        func gate(_ name: String) throws -> Value {
            graph.softmax(try dense(stem, units: moe.experts, name: "gates.\(name)", label: "\(moe.keyPath).gates", in: graph))
        }
        let inputs: [Value]
        switch moe.gates {
        case .perTask:
            inputs = try tasks.map { try graph.mixture(gates: try gate($0), values: stacked, label: moe.keyPath) }
        case .one:
            let mixed = try graph.mixture(gates: try gate("all"), values: stacked, label: moe.keyPath)
            inputs = tasks.map { _ in mixed }
        }
        return SchemeOutput(taskInputs: inputs, sharedRepresentation: stacked)
    }

    /// One column per task; after each listed layer a unit mixes the columns: x̃_t = Σ_s α_ts·x_s.
    private static func appendCrossStitch(_ spec: CrossStitchSpec, tasks: [String], stem: Value,
                                          in graph: Graph) throws -> SchemeOutput {
        var columns = tasks.map { _ in stem }
        let count = tasks.count
        for (i, layer) in spec.column.enumerated() {
            for (t, task) in tasks.enumerated() {
                columns[t] = try appendLayer(layer, to: columns[t], name: "columns.\(task).\(i)", in: graph)
            }
            guard spec.unitsAfter.contains(i), count > 1 else { continue }
            let off = (1 - spec.selfWeight) / Float(count - 1)
            let initial = (0..<count * count).map { $0 / count == $0 % count ? spec.selfWeight : off }
            let alpha = graph.parameter("cross_stitch.\(i).alpha", shape: [count, count], initializer: .values(initial))
            let shape = graph.shape(of: columns[0])
            let label = "\(spec.keyPath).units_after[\(i)]"
            let stacked = try graph.reshape(try graph.concat(columns, axis: 0, label: label),
                                            to: [count, shape.reduce(1, *)], label: label)
            let mixed = try graph.reshape(try graph.matmul(alpha, stacked, label: label),
                                          to: [count * shape[0]] + shape.dropFirst(), label: label)
            columns = try (0..<count).map { try graph.slice(mixed, axis: 0, start: $0 * shape[0], length: shape[0], label: label) }
        }
        return SchemeOutput(taskInputs: columns, sharedRepresentation: nil)
    }

    /// Named nodes with explicit inputs; `input` is the stem's output.
    private static func appendGraphNodes(_ nodes: [GraphNodeSpec], tasks: [TaskSpec], stem: Value,
                                         in graph: Graph) throws -> SchemeOutput {
        var values = ["input": stem]
        var last = stem
        for node in nodes {
            let inputs = try (node.inputs.isEmpty ? [last] : node.inputs.map { name -> Value in
                guard let value = values[name] else {
                    throw ModelFileError(location: node.location, keyPath: "\(node.keyPath).in",
                                         message: "no earlier node named '\(name)'")
                }
                return value
            })
            do {
                switch node.op {
                case let .layer(kind):
                    let layer = LayerSpec(kind: kind, keyPath: node.keyPath, location: node.location)
                    last = try appendLayer(layer, to: inputs[0], name: "graph.\(node.name)", in: graph)
                case .add:
                    last = try inputs.dropFirst().reduce(inputs[0]) { try graph.binary(.add, $0, $1, label: node.keyPath) }
                case .multiply:
                    last = try inputs.dropFirst().reduce(inputs[0]) { try graph.binary(.multiply, $0, $1, label: node.keyPath) }
                case .concat:
                    last = try graph.concat(inputs, axis: 1, label: node.keyPath)
                }
            } catch let error as GraphError {
                throw ModelFileError(location: node.location, keyPath: node.keyPath, message: error.message)
            }
            values[node.name] = last
        }
        let inputs = try tasks.map { task -> Value in
            guard let name = task.input else { return last }
            guard let value = values[name] else {
                throw ModelFileError(location: task.location, keyPath: "\(task.keyPath).in", message: "no graph node named '\(name)'")
            }
            return value
        }
        let shared = Set(inputs).count == 1 ? inputs[0] : nil
        return SchemeOutput(taskInputs: inputs, sharedRepresentation: shared)
    }
}
