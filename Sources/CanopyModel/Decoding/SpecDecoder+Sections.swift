import Foundation

/// The top level and the `data`, `input`, `tasks` and `train` sections.
extension SpecDecoder {
    static let topKeys = ["name", "description", "data", "input", "shared", "tasks", "train"]

    /// The whole spec from the document's root (without source text or file URL; ``ModelFile`` adds those).
    func modelSpec(_ root: DocumentNode, baseDirectory: URL?) throws -> ModelSpec {
        let top = try fields(root, "", allowed: Self.topKeys,
                             what: "a mapping with keys \(Self.topKeys.joined(separator: ", "))")
        let name = try string(try top.required("name"), "name")
        let description = try top.optional("description").map { try string($0, "description") }
        let data = try dataSpec(try top.required("data"), baseDirectory: baseDirectory)
        let input = try inputSpec(try top.required("input"))
        let shared = try top.optional("shared").map { try layers($0, "shared") } ?? []
        let tasks = try taskSpecs(try top.required("tasks"))
        let train = try trainSpec(try top.required("train"))
        return ModelSpec(name: name, description: description, data: data, input: input, shared: shared,
                         tasks: tasks, train: train, fileName: fileName, locations: locations)
    }

    private func dataSpec(_ node: DocumentNode, baseDirectory: URL?) throws -> DataSpec {
        let f = try fields(node, "data", allowed: ["source", "validation", "seed"], what: "a mapping")
        let sourceNode = try f.required("source")
        let text = try string(sourceNode, "data.source")
        let source: DataSource
        if text.hasPrefix("builtin:") {
            source = .builtin(String(text.dropFirst("builtin:".count)))
        } else if text.lowercased().hasSuffix(".csv") {
            var url = URL(fileURLWithPath: text)
            if !text.hasPrefix("/"), let baseDirectory { url = baseDirectory.appendingPathComponent(text) }
            source = .csv(url.standardizedFileURL)
        } else {
            throw error(sourceNode, "data.source", "expected 'builtin:<name>' (builtin:digits) or a path to a "
                            + ".csv file, found '\(text.truncatedForMessage)'")
        }
        return DataSpec(source: source,
                        validation: try f.optional("validation").map { try double($0, "data.validation") } ?? 0.2,
                        seed: try f.optional("seed").map { try seed($0, "data.seed") } ?? 0,
                        location: location(of: sourceNode))
    }

    private func inputSpec(_ node: DocumentNode) throws -> InputSpec {
        let f = try fields(node, "input", allowed: ["shape", "scale", "columns"], what: "a mapping")
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
        return InputSpec(shape: shape, scale: scale, columns: columns, location: location(of: shapeNode))
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
        let f = try fields(node, path, allowed: ["head", "loss", "metrics", "weight", "label"],
                           what: "a task mapping such as {head: [{dense: 10}], loss: cross_entropy}")
        let head = try layers(try f.required("head"), "\(path).head")
        let loss = LossKind(rawValue: try word(try f.required("loss"), "\(path).loss",
                                               among: LossKind.allCases.map(\.rawValue), what: "loss"))!
        let metrics: [MetricKind]? = try f.optional("metrics").map { node in
            let choices = MetricKind.allCases.map(\.rawValue)
            if case .scalar = node.content {
                return [MetricKind(rawValue: try word(node, "\(path).metrics", among: choices, what: "metric"))!]
            }
            return try list(node, "\(path).metrics", of: "metrics").enumerated().map {
                MetricKind(rawValue: try word($1, "\(path).metrics[\($0)]", among: choices, what: "metric"))!
            }
        }
        return TaskSpec(name: name, head: head, loss: loss, metrics: metrics,
                        weight: try f.optional("weight").map { try float($0, "\(path).weight") } ?? 1,
                        label: try f.optional("label").map { try string($0, "\(path).label") },
                        location: location)
    }

    private func trainSpec(_ node: DocumentNode) throws -> TrainSpec {
        let f = try fields(node, "train", allowed: ["optimizer", "batch_size", "epochs", "seed"], what: "a mapping")
        return TrainSpec(optimizer: try optimizer(try f.required("optimizer")),
                         batchSize: try int(try f.required("batch_size"), "train.batch_size"),
                         epochs: try int(try f.required("epochs"), "train.epochs"),
                         seed: try f.optional("seed").map { try seed($0, "train.seed") } ?? 0)
    }

    /// `{adam: {lr: 0.001, ...}}`, `{sgd: {lr: 0.05, momentum: 0.9}}`, or the bare word `adam` (all defaults).
    private func optimizer(_ node: DocumentNode) throws -> OptimizerSpec {
        let path = "train.optimizer"
        let names = ["adam", "sgd"]
        let name: String
        var settings: DocumentNode?
        if case .scalar = node.content {
            name = try word(node, path, among: names, what: "optimizer")
        } else {
            let pairs = try mappingPairs(node, path, what: "an optimizer such as {adam: {lr: 0.001}}")
            guard pairs.count == 1 else {
                throw error(node, path, "name exactly one optimizer (adam or sgd), found \(pairs.count) keys")
            }
            name = try word(pairs[0].key, path, among: names, what: "optimizer")
            settings = pairs[0].value.isNull ? nil : pairs[0].value
        }
        let sub = "\(path).\(name)"
        record(settings ?? node, at: sub)
        switch name {
        case "adam":
            let keys = ["lr", "beta1", "beta2", "eps", "weight_decay"]
            guard let settings else { return .adam() }
            let f = try fields(settings, sub, allowed: keys, what: "Adam's settings such as {lr: 0.001}")
            func value(_ key: String, _ fallback: Float) throws -> Float {
                try f.optional(key).map { try float($0, "\(sub).\(key)") } ?? fallback
            }
            return .adam(learningRate: try value("lr", 0.001), beta1: try value("beta1", 0.9),
                         beta2: try value("beta2", 0.999), epsilon: try value("eps", 1e-8),
                         weightDecay: try value("weight_decay", 0))
        default:
            guard let settings else {
                throw error(node, sub, "sgd needs a learning rate, such as {sgd: {lr: 0.05, momentum: 0.9}}")
            }
            let f = try fields(settings, sub, allowed: ["lr", "momentum", "weight_decay"],
                               what: "SGD's settings such as {lr: 0.05, momentum: 0.9}")
            return .sgd(learningRate: try float(try f.required("lr"), "\(sub).lr"),
                        momentum: try f.optional("momentum").map { try float($0, "\(sub).momentum") } ?? 0,
                        weightDecay: try f.optional("weight_decay").map { try float($0, "\(sub).weight_decay") } ?? 0)
        }
    }
}
