/// Rules for the sharing schemes' own values: counts, `units_after`, penalty weights, and the graph's names and
/// references (a node may read only `input` or an earlier node, so the graph is acyclic by construction). Shapes
/// are checked by ``summarize(_:)``.
extension SpecRules {
    /// The most experts an `mmoe:` may have.
    static let maxExperts = 1024

    func checkScheme() throws {
        let taskCount = spec.tasks.count
        switch spec.scheme {
        case .hard:
            break
        case .mixtureOfExperts(let moe):
            if moe.experts < 1 || moe.experts > Self.maxExperts {
                throw spec.error(at: "mmoe.experts", "experts must be in 1...\(Self.maxExperts), got \(moe.experts)")
            }
            if moe.expert.isEmpty { throw spec.error(at: "mmoe.expert", "an expert needs at least one layer") }
        case .crossStitch(let stitch):
            try needsTasks("cross_stitch", taskCount)
            if stitch.column.isEmpty { throw spec.error(at: "cross_stitch.column", "a column needs at least one layer") }
            try checkUnits(stitch)
            let w = stitch.selfWeight
            if !(w.isFinite && w > 0 && w <= 1) {
                throw spec.error(at: "cross_stitch.self_weight", "self_weight must be in (0, 1], got \(w)")
            }
        case .soft(let soft):
            try needsTasks("soft_sharing", taskCount)
            if soft.column.isEmpty { throw spec.error(at: "soft_sharing.column", "a column needs at least one layer") }
            try nonNegative(soft.l2, "soft_sharing.l2", "l2")
            try nonNegative(soft.traceNorm, "soft_sharing.trace_norm", "trace_norm")
        case .graph(let nodes):
            try checkGraph(nodes)
        case .mtan(let mtan):
            if mtan.trunk.isEmpty { throw spec.error(at: "mtan.trunk", "a trunk needs at least one layer") }
            if let attention = mtan.attention, attention.isEmpty {
                throw spec.error(at: "mtan.attention", "leave 'attention' out for MTAN's own attention layers, or "
                                    + "list at least one layer")
            }
            try checkIndices(mtan.at, path: "mtan.at", count: mtan.trunk.count, of: "trunk")
            if let last = mtan.at.last, last != mtan.trunk.count - 1 {
                throw spec.error(at: "mtan.at[\(mtan.at.count - 1)]", "the last attention point must be the trunk's "
                                    + "last layer (\(mtan.trunk.count - 1)), so that every task reads attended "
                                    + "features; move the layers after \(last) into the heads")
            }
        }
    }

    /// Layer indices: at least one, each inside a list of `count` layers, unique and ascending.
    private func checkIndices(_ indices: [Int], path: String, count: Int, of list: String) throws {
        guard !indices.isEmpty else { throw spec.error(at: path, "give at least one \(list) layer index") }
        for (k, index) in indices.enumerated() {
            if index < 0 || index >= count {
                throw spec.error(at: "\(path)[\(k)]", "layer index \(index) is outside the \(list), which has "
                                    + "\(count) layers (0...\(count - 1))")
            }
            if k > 0 && index == indices[k - 1] {
                throw spec.error(at: "\(path)[\(k)]", "layer index \(index) is listed twice")
            }
            if k > 0 && index < indices[k - 1] {
                throw spec.error(at: "\(path)[\(k)]", "indices must be in ascending order, but \(index) follows "
                                    + "\(indices[k - 1])")
            }
        }
    }

    private func needsTasks(_ keyword: String, _ count: Int) throws {
        if count < 2 {
            throw spec.error(at: keyword, "\(keyword) ties the columns of several tasks, but the model has "
                                + "\(count) task; use 'shared:' for one task")
        }
    }

    /// `units_after`: at least one, each a valid index into the column, unique and ascending.
    private func checkUnits(_ stitch: CrossStitchSpec) throws {
        let path = "cross_stitch.units_after"
        guard !stitch.unitsAfter.isEmpty else {
            throw spec.error(at: path, "cross_stitch needs at least one unit; the default puts one after each "
                                + "activation that follows a dense or conv2d layer, and this column has none: "
                                + "give units_after: [index, ...]")
        }
        try checkIndices(stitch.unitsAfter, path: path, count: stitch.column.count, of: "column")
    }

    private func checkGraph(_ nodes: [GraphNodeSpec]) throws {
        guard !nodes.isEmpty else { throw spec.error(at: "graph", "a graph needs at least one node") }
        var defined: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            let namePath = "\(node.keyPath).name"
            if node.name == GraphNodeSpec.inputName {
                throw spec.error(at: namePath, "'input' is reserved: it is the name of the stem's output that "
                                    + "nodes read; choose another name")
            }
            if !GraphNodeSpec.isValidName(node.name) {
                throw spec.error(at: namePath, "node name '\(node.name.truncatedForMessage)' must start with a letter "
                                    + "or '_' and use only letters, digits, '_' and '-'")
            }
            if let first = defined[node.name] {
                let line = spec.location(of: "\(nodes[first].keyPath).name").line.map { ", line \($0)" } ?? ""
                throw spec.error(at: namePath, "duplicate node name '\(node.name)' (first used by "
                                    + "\(nodes[first].keyPath)\(line))")
            }
            try checkInputs(of: node, at: index, defined: defined, nodes: nodes)
            defined[node.name] = index
        }
        for task in spec.tasks {
            guard let name = task.input else { continue }
            if name != GraphNodeSpec.inputName && defined[name] == nil {
                let choices = [GraphNodeSpec.inputName] + nodes.map(\.name)
                throw spec.error(at: "\(task.keyPath).in", "no graph node is named '\(name.truncatedForMessage)'"
                                    + Self.hint(name, choices))
            }
        }
    }

    private func checkInputs(of node: GraphNodeSpec, at index: Int, defined: [String: Int],
                             nodes: [GraphNodeSpec]) throws {
        let path = "\(node.keyPath).in"
        let inputs = node.inputs.isEmpty ? [index == 0 ? GraphNodeSpec.inputName : nodes[index - 1].name] : node.inputs
        switch node.op {
        case .layer(let kind):
            if inputs.count != 1 {
                throw spec.error(at: path, "\(kind.keyword) takes exactly one input, got \(inputs.count); "
                                    + "combine inputs first with add, multiply or concat")
            }
        case .add, .multiply, .concat:
            if inputs.count < 2 {
                throw spec.error(at: path, "\(node.op.keyword) combines two or more inputs, got \(inputs.count); "
                                    + "write in: [a, b]")
            }
        }
        for (k, name) in inputs.enumerated() {
            let itemPath = node.inputs.count > 1 || spec.locations["\(path)[\(k)]"] != nil ? "\(path)[\(k)]" : path
            if name == GraphNodeSpec.inputName || defined[name] != nil { continue }
            if let later = nodes.indices.first(where: { $0 >= index && nodes[$0].name == name }) {
                let what = later == index ? "itself" : "'\(name)', which is defined later (\(nodes[later].keyPath))"
                throw spec.error(at: itemPath, "\(node.name) reads \(what); a node may read only 'input' and "
                                    + "nodes written before it")
            }
            let choices = [GraphNodeSpec.inputName] + nodes[..<index].map(\.name)
            throw spec.error(at: itemPath, "unknown input '\(name.truncatedForMessage)'" + Self.hint(name, choices))
        }
    }

    /// ` (did you mean 'x'?)`, or ` (available: a, b, c)`.
    static func hint(_ name: String, _ choices: [String]) -> String {
        let hint = Suggestion.didYouMean(name, among: choices)
        return hint.isEmpty ? " (available: \(choices.joined(separator: ", ")))" : hint
    }
}

extension GraphNodeSpec {
    /// Whether `name` can name a graph node: `[A-Za-z_][A-Za-z0-9_-]*` (it becomes part of parameter names such
    /// as `graph.<name>.weight`).
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first,
              ("a"..."z").contains(first) || ("A"..."Z").contains(first) || first == "_" else { return false }
        return TaskSpec.isValidName(name)
    }
}
