/// `graph:`: a list of named nodes, `{name: h1, op: dense, units: 64, in: input}`.
///
/// A node's keys are `name`, `op`, `in` and the op's own settings (a layer's, from its ``LayerSyntax``: `units`;
/// `filters`, `kernel`, `stride`, `padding`; `kernel`, `stride`; `p`). A node without `in:` reads the node before
/// it (the first reads `input`); the decoder writes that default into ``GraphNodeSpec/inputs``. Names and
/// references are checked by ``SpecRules``, shapes by ``summarize(_:)``.
extension SpecDecoder {
    /// Every word `op:` accepts: the layers, then the combining ops.
    static var graphOps: [String] { LayerRegistry.keywords + GraphNodeOp.combining.map(\.keyword) }

    func graphNodes(_ node: DocumentNode) throws -> [GraphNodeSpec] {
        var nodes: [GraphNodeSpec] = []
        for (index, item) in try list(node, "graph", of: "nodes").enumerated() {
            let path = "graph[\(index)]"
            let previous = nodes.last?.name ?? GraphNodeSpec.inputName
            nodes.append(try graphNode(item, path, previous: previous))
        }
        return nodes
    }

    private func graphNode(_ item: DocumentNode, _ path: String, previous: String) throws -> GraphNodeSpec {
        let what = "a node such as {name: h1, op: dense, units: 64}"
        let pairs = try mappingPairs(item, path, what: what)
        guard let opPair = try pairs.first(where: { try keyText($0.key, path) == "op" }) else {
            throw error(item, "\(path).op", "missing required key 'op' (one of: \(Self.graphOps.joined(separator: ", ")))")
        }
        let opWord = try word(opPair.value, "\(path).op", among: Self.graphOps, what: "op")
        let syntax = LayerRegistry.syntax(for: opWord)
        let f = try fields(item, path, allowed: ["name", "op", "in"] + (syntax?.keys ?? []), what: what)
        let name = try string(try f.required("name"), "\(path).name")
        let inputs: [String] = try f.optional("in").map { node in
            if case .scalar = node.content { return [try string(node, "\(path).in")] }
            return try list(node, "\(path).in", of: "node names").enumerated().map {
                try string($1, "\(path).in[\($0)]")
            }
        } ?? [previous]
        let op: GraphNodeOp
        if let syntax {
            op = .layer(syntax.make(try layerSettings(syntax, from: f)))
        } else {
            op = GraphNodeOp.combining.first { $0.keyword == opWord }!
        }
        return GraphNodeSpec(name: name, op: op, inputs: inputs, keyPath: path, location: location(of: item))
    }
}
