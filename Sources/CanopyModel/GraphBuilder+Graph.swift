import CanopyCore

/// `graph:`: named nodes with explicit inputs; `input` is the stem's output. A layer node's parameters are named
/// `graph.<node>.<suffix>` and its settings sit beside `op:` (`graph[2].kernel`). Names and references have been
/// checked by ``SpecRules``; shapes are checked here, each error placed at the node.
extension ModelBuilder {
    func appendGraphNodes(_ nodes: [GraphNodeSpec], stem: Value) throws -> SchemeOutput {
        var values = [GraphNodeSpec.inputName: stem]
        var last = stem
        var lastName = GraphNodeSpec.inputName
        var rows = RowLog()
        for node in nodes {
            let names = node.inputs.isEmpty ? [lastName] : node.inputs
            let inputs = try names.map { name -> Value in
                guard let value = values[name] else {
                    throw ModelFileError(location: node.location, keyPath: "\(node.keyPath).in",
                                         message: "no earlier node named '\(name)'")
                }
                return value
            }
            var parameters: [ModelSummary.Parameter] = []
            do {
                switch node.op {
                case let .layer(kind):
                    let site = LayerSite(keyPath: node.keyPath, location: node.location, spec: spec)
                    (last, parameters) = try apply(kind.layer, to: inputs[0], name: "graph.\(node.name)", site: site,
                                                   what: "\(kind) on its input")
                case .add, .multiply:
                    try checkSameShapes(node, names, inputs)
                    let function: BinaryFunction = node.op == .add ? .add : .multiply
                    last = try inputs.dropFirst().reduce(inputs[0]) { try graph.binary(function, $0, $1, label: node.keyPath) }
                case .concat:
                    try checkConcatenable(node, names, inputs)
                    last = try graph.concat(inputs, axis: 1, label: node.keyPath)
                    try checkSize(of: last, at: node.keyPath, node.location)
                }
            } catch let error as GraphError {
                throw ModelFileError(location: node.location, keyPath: node.keyPath, message: error.message)
            }
            values[node.name] = last
            lastName = node.name
            rows.add(node.keyPath, "\(node.name) = \(node.op) ← \(names.joined(separator: ", "))",
                     input: shape(of: inputs[0]), output: shape(of: last), parameters)
        }
        let inputs = try spec.tasks.map { task -> Value in
            guard let name = task.input else { return last }
            guard let value = values[name] else {
                throw ModelFileError(location: task.location, keyPath: "\(task.keyPath).in", message: "no graph node named '\(name)'")
            }
            return value
        }
        var output = SchemeOutput(taskInputs: inputs, sharedRepresentation: Set(inputs).count == 1 ? inputs[0] : nil)
        output.sections = [ModelSummary.Section(title: "graph", detail: "\(nodes.count) nodes", rows: rows.rows, copies: 1)]
        return output
    }

    /// `add` and `multiply` need inputs of one shape.
    private func checkSameShapes(_ node: GraphNodeSpec, _ names: [String], _ inputs: [Value]) throws {
        let first = shape(of: inputs[0])
        for (name, input) in zip(names, inputs) where shape(of: input) != first {
            throw spec.error(at: "\(node.keyPath).in", "\(node.op.keyword) needs inputs of one shape, but "
                                + "'\(names[0])' is \(ModelSummary.shape(first)) and '\(name)' is "
                                + "\(ModelSummary.shape(shape(of: input)))")
        }
    }

    /// `concat` joins along dimension 0 of the per-example shape (features, or channels): the others must agree.
    private func checkConcatenable(_ node: GraphNodeSpec, _ names: [String], _ inputs: [Value]) throws {
        let first = shape(of: inputs[0])
        for (name, input) in zip(names, inputs) {
            let other = shape(of: input)
            guard other.count != first.count || other.dropFirst() != first.dropFirst() else { continue }
            let along = first.count == 1 ? "features" : "channels"
            throw spec.error(at: "\(node.keyPath).in", "concat joins its inputs along \(along), so every other "
                                + "dimension must agree, but '\(names[0])' is \(ModelSummary.shape(first)) and "
                                + "'\(name)' is \(ModelSummary.shape(other))")
        }
    }
}
