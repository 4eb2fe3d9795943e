/// Shapes and parameters of `graph:`: each node's output from its inputs' shapes (names and references have
/// been checked by ``SpecRules``), parameters `graph.<node>.weight|bias` in node order.
extension ShapeWalker {
    mutating func walkGraph(_ nodes: [GraphNodeSpec], from stem: [Int]) throws -> SchemeShapes {
        var shapes = [GraphNodeSpec.inputName: stem]
        var rows: [ModelSummary.Row] = []
        var parameters: [ModelSummary.Parameter] = []
        var last = stem
        for (index, node) in nodes.enumerated() {
            let inputs = node.inputs.isEmpty ? [index == 0 ? GraphNodeSpec.inputName : nodes[index - 1].name]
                                             : node.inputs
            let inputShapes = try inputs.map { name -> [Int] in
                guard let shape = shapes[name] else {
                    throw spec.error(at: "\(node.keyPath).in", "unknown input '\(name)'")
                }
                return shape
            }
            var output: [Int]
            var nodeParameters: [ModelSummary.Parameter] = []
            switch node.op {
            case .layer:
                let (shape, counts) = try infer(node.layer!, input: inputShapes[0])
                output = shape
                nodeParameters = zip(["weight", "bias"], counts).map {
                    ModelSummary.Parameter(name: "graph.\(node.name).\($0)", count: $1)
                }
            case .add, .multiply:
                for (name, shape) in zip(inputs, inputShapes) where shape != inputShapes[0] {
                    throw spec.error(at: "\(node.keyPath).in", "\(node.op.keyword) needs inputs of one shape, but "
                                        + "'\(inputs[0])' is \(ModelSummary.shape(inputShapes[0])) and '\(name)' is "
                                        + "\(ModelSummary.shape(shape))")
                }
                output = inputShapes[0]
            case .concat:
                output = try concatenated(node, inputs, inputShapes)
            }
            shapes[node.name] = output
            last = output
            parameters += nodeParameters
            rows.append(ModelSummary.Row(keyPath: node.keyPath,
                                         description: "\(node.name) = \(node.op) ← \(inputs.joined(separator: ", "))",
                                         inputShape: inputShapes[0], outputShape: output, parameters: nodeParameters))
        }
        var result = SchemeShapes(taskInputs: spec.tasks.map { task in task.input.flatMap { shapes[$0] } ?? last })
        result.parameters = parameters
        result.sections = [ModelSummary.Section(title: "graph", detail: "\(nodes.count) nodes", rows: rows, copies: 1)]
        return result
    }

    /// The shape of a concatenation along dimension 0 of the per-example shape (features, or channels).
    private func concatenated(_ node: GraphNodeSpec, _ inputs: [String], _ shapes: [[Int]]) throws -> [Int] {
        let first = shapes[0]
        for (name, shape) in zip(inputs, shapes) where shape.count != first.count || shape.dropFirst() != first.dropFirst() {
            let along = first.count == 1 ? "features" : "channels"
            throw spec.error(at: "\(node.keyPath).in", "concat joins its inputs along \(along), so every other "
                                + "dimension must agree, but '\(inputs[0])' is \(ModelSummary.shape(first)) and "
                                + "'\(name)' is \(ModelSummary.shape(shape))")
        }
        var output = first
        output[0] = shapes.reduce(0) { $0 + $1[0] }
        return try checked(output, LayerSpec(kind: .flatten, keyPath: node.keyPath, location: node.location))
    }
}
