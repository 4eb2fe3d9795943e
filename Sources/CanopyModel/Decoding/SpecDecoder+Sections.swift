import Foundation

/// The top level and the `data`, `input` and `tasks` sections (`train` is in SpecDecoder+Train, the sharing
/// schemes in SpecDecoder+Schemes and SpecDecoder+Graph).
extension SpecDecoder {
    /// The keys of the sharing schemes that may follow the `shared:` stem; at most one per file.
    static let schemeKeys = ["mmoe", "cross_stitch", "soft_sharing", "graph", "mtan"]
    static let topKeys = ["name", "description", "data", "input", "shared"] + schemeKeys
        + ["task_gating", "init_from", "freeze", "tasks", "train", "log"]

    /// The whole spec from the document's root (without source text or file URL; ``ModelFile`` adds those).
    func modelSpec(_ root: DocumentNode, baseDirectory: URL?) throws -> ModelSpec {
        let top = try fields(root, "", allowed: Self.topKeys,
                             what: "a mapping with keys \(Self.topKeys.joined(separator: ", "))")
        let name = try string(try top.required("name"), "name")
        let description = try top.optional("description").map { try string($0, "description") }
        let data = try dataSpec(try top.required("data"), baseDirectory: baseDirectory)
        let input = try inputSpec(try top.required("input"))
        let shared = try top.optional("shared").map { try layers($0, "shared") } ?? []
        let scheme = try sharingScheme(top)
        let tasks = try taskSpecs(try top.required("tasks"))
        let train = try trainSpec(try top.required("train"))
        var spec = ModelSpec(name: name, description: description, data: data, input: input, shared: shared,
                             tasks: tasks, train: train, fileName: fileName, locations: [:])
        spec.scheme = scheme
        spec.taskGating = try top.optional("task_gating").map { try bool($0, "task_gating") } ?? false
        spec.transfer = try transferSpec(top, baseDirectory: baseDirectory)
        spec.log = try top.optional("log").map { try logSpec($0) } ?? LogSpec()
        spec.locations = locations
        return spec
    }

    /// The one sharing scheme the file names, or hard sharing; two scheme keys are an error naming both.
    private func sharingScheme(_ top: Fields) throws -> SharingScheme {
        let present = Self.schemeKeys.compactMap { key in top.entries[key].map { (key, $0.key) } }
            .sorted { ($0.1.line, $0.1.column) < ($1.1.line, $1.1.column) }
        if present.count > 1 {
            let (first, firstKey) = present[0], (second, secondKey) = present[1]
            throw error(secondKey, second, "a model uses at most one sharing scheme, but both '\(first)' "
                            + "(line \(firstKey.line)) and '\(second)' are given; keep one (the 'shared:' stem may "
                            + "accompany either)")
        }
        guard let (key, _) = present.first else { return .hard }
        let node = try top.required(key)
        switch key {
        case "mmoe": return .mixtureOfExperts(try mixtureOfExperts(node))
        case "cross_stitch": return .crossStitch(try crossStitch(node))
        case "soft_sharing": return .soft(try softSharing(node))
        case "mtan": return .mtan(try mtan(node))
        default: return .graph(try graphNodes(node))
        }
    }

    /// `init_from:` (a path resolved like a CSV path, or `{path: …, strict: false}`) and `freeze:` (a name or a
    /// list of names).
    private func transferSpec(_ top: Fields, baseDirectory: URL?) throws -> TransferSpec {
        var strict = true
        let initFrom = try top.optional("init_from").map { node -> URL in
            if case .scalar = node.content { return Self.resolve(try string(node, "init_from"), against: baseDirectory) }
            let f = try fields(node, "init_from", allowed: ["path", "strict"],
                               what: "a path, or a mapping such as {path: runs/a/parameters.safetensors, strict: false}")
            if let flag = f.optional("strict") { strict = try bool(flag, "init_from.strict") }
            return Self.resolve(try string(try f.required("path"), "init_from.path"), against: baseDirectory)
        }
        let freeze: [String] = try top.optional("freeze").map { node in
            if case .scalar = node.content { return [try string(node, "freeze")] }
            return try list(node, "freeze", of: "names").enumerated().map { try string($1, "freeze[\($0)]") }
        } ?? []
        return TransferSpec(initFrom: initFrom, strict: strict, freeze: freeze)
    }

    /// `text` as a file URL; a relative path is taken relative to `baseDirectory` (the model file's directory).
    static func resolve(_ text: String, against baseDirectory: URL?) -> URL {
        var url = URL(fileURLWithPath: text)
        if !text.hasPrefix("/"), let baseDirectory { url = baseDirectory.appendingPathComponent(text) }
        return url.standardizedFileURL
    }

    /// `data:`: `source:` (or `train:`), `validation:` as a fraction or a file, `test:`, `seed:`, `missing:`,
    /// `options:`.
    private func dataSpec(_ node: DocumentNode, baseDirectory: URL?) throws -> DataSpec {
        let f = try fields(node, "data", allowed: ["source", "train", "validation", "test", "seed", "missing", "options"],
                           what: "a mapping")
        let source = f.optional("source"), train = f.optional("train")
        if let source, train != nil {
            throw error(source, "data.source", "give the training data once: 'source:' or 'train:', not both")
        }
        guard let sourceNode = source ?? train else {
            throw error(node, "data.source", "missing required key 'source' (or 'train' with a validation or test file)")
        }
        let sourcePath = source != nil ? "data.source" : "data.train"
        record(sourceNode, at: "data.source")
        var fraction = 0.2, validationSource: DataSource?
        if let validation = f.optional("validation") {
            if case .scalar(_, let quoted) = validation.content, !quoted,
               let number = try? double(validation, "data.validation") {
                fraction = number
            } else {
                validationSource = try dataSource(validation, "data.validation", baseDirectory: baseDirectory)
            }
        }
        var data = DataSpec(source: try dataSource(sourceNode, sourcePath, baseDirectory: baseDirectory),
                            validation: fraction,
                            seed: try f.optional("seed").map { try seed($0, "data.seed") } ?? 0,
                            location: location(of: sourceNode))
        data.validationSource = validationSource
        data.testSource = try f.optional("test").map { try dataSource($0, "data.test", baseDirectory: baseDirectory) }
        data.missing = try f.optional("missing").map { try missingTexts($0) } ?? []
        data.options = try f.optional("options").map { try dataOptions($0) } ?? [:]
        return data
    }

    /// `builtin:<name>`, a path to a `.csv` file (relative to the model file), or a mapping naming image or NumPy
    /// files (``fileDataSource(_:_:baseDirectory:)``).
    private func dataSource(_ node: DocumentNode, _ path: String, baseDirectory: URL?) throws -> DataSource {
        if case .mapping = node.content { return try fileDataSource(node, path, baseDirectory: baseDirectory) }
        let text = try string(node, path)
        if text.hasPrefix("builtin:") { return .builtin(String(text.dropFirst("builtin:".count))) }
        if text.lowercased().hasSuffix(".csv") { return .csv(Self.resolve(text, against: baseDirectory)) }
        throw error(node, path, "expected 'builtin:<name>' (builtin:digits) or a path to a .csv file, "
                        + "found '\(text.truncatedForMessage)'")
    }

    /// `missing:`: one text or a list; numbers and other plain scalars count as the text written.
    private func missingTexts(_ node: DocumentNode) throws -> [String] {
        func text(_ item: DocumentNode, _ path: String) throws -> String {
            guard case .scalar(let text, _) = item.content else {
                throw error(item, path, "expected a cell text such as \"NA\" or -1, found \(item.kindDescription)")
            }
            return text
        }
        if case .scalar = node.content { return [try text(node, "data.missing")] }
        return try list(node, "data.missing", of: "cell texts").enumerated().map {
            try text($1, "data.missing[\($0)]")
        }
    }

    /// `options:`: a mapping from option name to number; which names a source takes is checked by ``SpecRules``.
    private func dataOptions(_ node: DocumentNode) throws -> [String: Double] {
        let pairs = try mappingPairs(node, "data.options", what: "a mapping from option name to number, "
                                        + "such as {rows: 5000, seed: 1}")
        record(node, at: "data.options")
        try checkDuplicates(pairs, "data.options")
        var options: [String: Double] = [:]
        for pair in pairs {
            let name = try keyText(pair.key, "data.options")
            record(pair.key, at: "data.options.\(name)")
            options[name] = try double(pair.value, "data.options.\(name)")
        }
        return options
    }

    private func inputSpec(_ node: DocumentNode) throws -> InputSpec {
        let f = try fields(node, "input", allowed: ["shape", "scale", "columns", "normalize", "text", "categorical",
                                                    "augment"], what: "a mapping")
        let shapeNode = try f.required("shape")
        let shape = try list(shapeNode, "input.shape", of: "sizes").enumerated().map {
            try int($1, "input.shape[\($0)]")
        }
        let scale = try f.optional("scale").map { try float($0, "input.scale") } ?? 1
        let columns = try f.optional("columns").map {
            try list($0, "input.columns", of: "column names").enumerated().map {
                try string($1, "input.columns[\($0)]")
            }
        }
        var input = InputSpec(shape: shape, scale: scale, columns: columns, location: location(of: shapeNode))
        input.normalize = try f.optional("normalize").map {
            InputNormalization(rawValue: try word($0, "input.normalize", among: InputNormalization.allCases.map(\.rawValue),
                                                  what: "normalisation"))!
        } ?? .none
        input.text = try f.optional("text").map { try textInput($0) }
        input.categorical = try f.optional("categorical").map { try categoricalInput($0) }
        input.augment = try f.optional("augment").map { try augmentSpec($0, shape: shape) }
        return input
    }

    private func taskSpecs(_ node: DocumentNode) throws -> [TaskSpec] {
        let pairs = try mappingPairs(node, "tasks", what: "a mapping from task name to task")
        record(node, at: "tasks")
        try checkDuplicates(pairs, "tasks")
        return try pairs.map { pair in
            let name = try keyText(pair.key, "tasks")
            record(pair.key, at: "tasks.\(name)")
            return try taskSpec(name: name, pair.value, location: location(of: pair.key))
        }
    }

    private func taskSpec(name: String, _ node: DocumentNode, location: SourceLocation) throws -> TaskSpec {
        let path = "tasks.\(name)"
        let f = try fields(node, path, allowed: ["head", "loss", "metrics", "weight", "label", "in", "class_weights"],
                           what: "a task mapping such as {head: [{dense: 10}], loss: cross_entropy}")
        let head = try layers(try f.required("head"), "\(path).head")
        let (loss, lossSettings) = try lossChoice(try f.required("loss"), "\(path).loss")
        let metrics: [MetricKind]? = try f.optional("metrics").map { node in
            let choices = MetricKind.allCases.map(\.rawValue)
            if case .scalar = node.content {
                return [MetricKind(rawValue: try word(node, "\(path).metrics", among: choices, what: "metric"))!]
            }
            return try list(node, "\(path).metrics", of: "metrics").enumerated().map {
                MetricKind(rawValue: try word($1, "\(path).metrics[\($0)]", among: choices, what: "metric"))!
            }
        }
        var task = TaskSpec(name: name, head: head, loss: loss, metrics: metrics,
                            weight: try f.optional("weight").map { try float($0, "\(path).weight") } ?? 1,
                            label: try f.optional("label").map { try string($0, "\(path).label") },
                            location: location)
        task.lossSettings = lossSettings
        task.input = try f.optional("in").map { try string($0, "\(path).in") }
        task.classWeights = try f.optional("class_weights").map { try classWeights($0, "\(path).class_weights") }
        return task
    }

    /// `loss: mse`, or a loss with its settings: `{huber: {delta: 0.5}}`, `{binary_cross_entropy: {pos_weight: 3}}`.
    private func lossChoice(_ node: DocumentNode, _ path: String) throws -> (LossKind, LossSettings) {
        let (name, settings) = try choice(node, path, among: LossKind.allCases.map(\.rawValue), what: "loss",
                                          example: "{huber: {delta: 0.5}}")
        let loss = LossKind(rawValue: name)!
        var result = LossSettings()
        guard let settings else { return (loss, result) }
        let sub = "\(path).\(name)"
        guard !loss.settingNames.isEmpty else {
            throw error(settings, sub, "'\(name)' takes no settings; write it as a bare word: loss: \(name)")
        }
        let f = try fields(settings, sub, allowed: loss.settingNames,
                           what: "the loss's settings such as {\(loss.settingNames.map { "\($0): 1" }.joined(separator: ", "))}")
        result.delta = try f.optional("delta").map { try float($0, "\(sub).delta") } ?? 1
        result.positiveWeight = try f.optional("pos_weight").map { try float($0, "\(sub).pos_weight") } ?? 1
        return (loss, result)
    }

    /// `class_weights: balanced` or a list of numbers, one per class.
    private func classWeights(_ node: DocumentNode, _ path: String) throws -> ClassWeightsSpec {
        if case .scalar = node.content {
            _ = try word(node, path, among: ["balanced"], what: "class weighting")
            return .balanced
        }
        guard case .sequence = node.content else {
            throw error(node, path, "expected 'balanced' or a list of weights, one per class, "
                            + "found \(node.kindDescription)")
        }
        return .explicit(try list(node, path, of: "weights").enumerated().map { try float($1, "\(path)[\($0)]") })
    }
}
