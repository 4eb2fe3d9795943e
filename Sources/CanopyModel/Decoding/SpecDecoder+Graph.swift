/// `graph:`: a list of named nodes, `{name: h1, op: dense, units: 64, in: input}`.
///
/// A node's keys are `name`, `op`, `in` and the op's own parameters (`units`; `filters`, `kernel`, `stride`,
/// `padding`; `kernel`, `stride`; `p`). A node without `in:` reads the node before it (the first reads `input`);
/// the decoder writes that default into ``GraphNodeSpec/inputs``. Names and references are checked by
/// ``SpecRules``, shapes by ``summarize(_:)``.
extension SpecDecoder {
    /// The ops that combine several inputs.
    static let combiningOps = ["add", "multiply", "concat"]
    /// Every word `op:` accepts: the layers, then the combining ops.
    static var graphOps: [String] { layerWords + combiningOps }

    /// The parameter keys of each op that has some.
    static let graphOpParameters: [String: [String]] = [
        "dense": ["units"], "conv2d": ["filters", "kernel", "stride", "padding"], "maxpool": ["kernel", "stride"],
        "dropout": ["p"],
    ]

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
        let parameters = Self.graphOpParameters[opWord] ?? []
        let f = try fields(item, path, allowed: ["name", "op", "in"] + parameters, what: what)
        let name = try string(try f.required("name"), "\(path).name")
        let inputs: [String] = try f.optional("in").map { node in
            if case .scalar = node.content { return [try string(node, "\(path).in")] }
            return try list(node, "\(path).in", of: "node names").enumerated().map {
                try string($1, "\(path).in[\($0)]")
            }
        } ?? [previous]
        func int(_ key: String) throws -> Int { try self.int(try f.required(key), "\(path).\(key)") }
        func optionalInt(_ key: String) throws -> Int? { try f.optional(key).map { try self.int($0, "\(path).\(key)") } }
        let op: GraphNodeOp
        switch opWord {
        case "add": op = .add
        case "multiply": op = .multiply
        case "concat": op = .concat
        case "dense": op = .layer(.dense(units: try int("units")))
        case "conv2d":
            op = .layer(.conv2d(filters: try int("filters"), kernel: try int("kernel"),
                                stride: try optionalInt("stride") ?? 1, padding: try optionalInt("padding") ?? 0))
        case "maxpool":
            let kernel = try int("kernel")
            op = .layer(.maxPool(kernel: kernel, stride: try optionalInt("stride") ?? kernel))
        case "dropout": op = .layer(.dropout(try float(try f.required("p"), "\(path).p")))
        case "flatten": op = .layer(.flatten)
        default: op = .layer(.activation(ActivationKind(rawValue: opWord)!))
        }
        return GraphNodeSpec(name: name, op: op, inputs: inputs, keyPath: path, location: location(of: item))
    }
}
