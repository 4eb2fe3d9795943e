/// What a `freeze:` entry names, and the rule that each entry names at least one parameter.
extension ModelSummary {
    /// The parameter-name prefixes each scheme keyword (and `task_gating`) stands for in `freeze:`.
    static let keywordPrefixes: [String: [String]] = [
        "shared": ["shared."], "mmoe": ["experts.", "gates."], "cross_stitch": ["columns.", "cross_stitch."],
        "soft_sharing": ["towers."], "graph": ["graph."], "mtan": ["trunk.", "mtan."], "task_gating": ["gating."],
    ]

    /// The names of the parameters a `freeze:` entry names, in graph order (empty when it names none):
    /// - `shared` (the stem), the model's scheme keyword (`mmoe`: experts and gates; `cross_stitch`: columns and
    ///   units; `soft_sharing`: towers; `graph`: every node), or `task_gating`;
    /// - a row's key path: `shared[0]`, `mmoe.expert[1]` (that layer of every expert), `cross_stitch.column[0]`,
    ///   `graph[2]`, `tasks.digit.head[0]`, `gates.y1`, `gating.digit`; a residual block's key path names every
    ///   layer inside it;
    /// - otherwise a parameter name or a prefix of names ending at a dot: `experts.3`, `tasks.digit`,
    ///   `graph.h1`, `shared.0.weight`.
    public func parameterNames(frozenBy entry: String) -> [String] {
        let names = parameters.map(\.name)
        if entry == "shared" || entry == scheme || entry == "task_gating",
           let prefixes = Self.keywordPrefixes[entry] {
            return names.filter { name in prefixes.contains { name.hasPrefix($0) } }
        }
        if allRows.contains(where: { $0.keyPath == entry }) {
            // The row and the rows inside it (a residual block's layers).
            let own = Set(allRows.filter { $0.keyPath == entry || $0.keyPath.hasPrefix(entry + ".") }
                .flatMap(\.parameterNames))
            return names.filter { own.contains($0) }
        }
        return names.filter { $0 == entry || $0.hasPrefix(entry + ".") }
    }

    /// The names of every parameter `freeze` names.
    public func frozenParameterNames(_ freeze: [String]) -> Set<String> {
        Set(freeze.flatMap { parameterNames(frozenBy: $0) })
    }
}

extension SpecRules {
    /// Every `freeze:` entry must name at least one parameter of the model.
    func checkFreeze(_ summary: ModelSummary) throws {
        for (k, entry) in spec.transfer.freeze.enumerated() where summary.parameterNames(frozenBy: entry).isEmpty {
            let path = "freeze[\(k)]"
            if let row = summary.allRows.first(where: { $0.keyPath == entry }) {
                throw spec.error(at: path, "\(entry) (\(row.description)) has no parameters to freeze")
            }
            var choices = ["shared"] + (spec.scheme == .hard ? [] : [summary.scheme])
                + (spec.taskGating ? ["task_gating"] : [])
            choices += summary.allRows.filter { $0.parameterCount > 0 }.map(\.keyPath)
            choices += summary.parameters.map { String($0.name.prefix { $0 != "." }) }
            choices = choices.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
            let hint = Suggestion.didYouMean(entry, among: choices)
            throw spec.error(at: path, "'\(entry.truncatedForMessage)' names no parameter of this model"
                                + (hint.isEmpty ? "; freeze takes 'shared', the scheme's key, a layer's key path "
                                    + "such as shared[0], or a parameter-name prefix such as tasks.\(spec.tasks[0].name)"
                                    : hint))
        }
    }
}
