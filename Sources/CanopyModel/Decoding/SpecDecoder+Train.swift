/// The `train:` section: optimizer, batch size, epochs, seed, task weighting, schedule, clipping, early stopping,
/// shuffling and per-step logging.
extension SpecDecoder {
    static let trainKeys = ["optimizer", "batch_size", "epochs", "seed", "weighting", "schedule", "warmup_epochs",
                            "clip_norm", "early_stopping", "shuffle", "log_every_step"]

    func trainSpec(_ node: DocumentNode) throws -> TrainSpec {
        let f = try fields(node, "train", allowed: Self.trainKeys, what: "a mapping")
        var train = TrainSpec(optimizer: try optimizer(try f.required("optimizer")),
                              batchSize: try int(try f.required("batch_size"), "train.batch_size"),
                              epochs: try int(try f.required("epochs"), "train.epochs"),
                              seed: try f.optional("seed").map { try seed($0, "train.seed") } ?? 0)
        train.weighting = try f.optional("weighting").map { try weighting($0) } ?? .fixed
        var schedule = try f.optional("schedule").map { try scheduleKind($0) }.map { ScheduleSpec(kind: $0) }
            ?? ScheduleSpec()
        schedule.warmupEpochs = try f.optional("warmup_epochs").map { try int($0, "train.warmup_epochs") } ?? 0
        train.schedule = schedule
        train.clipNorm = try f.optional("clip_norm").map { try float($0, "train.clip_norm") }
        train.earlyStopping = try f.optional("early_stopping").map { try earlyStopping($0) }
        train.shuffle = try f.optional("shuffle").map { try bool($0, "train.shuffle") } ?? true
        train.logEveryStep = try f.optional("log_every_step").map { try bool($0, "train.log_every_step") } ?? false
        return train
    }

    /// A value that names one choice: a bare word (`adam`, `pcgrad`) or a one-key mapping whose value holds the
    /// choice's settings (`{adam: {lr: 0.001}}`); the settings are nil for a bare word or a null value.
    func choice(_ node: DocumentNode, _ path: String, among names: [String], what: String,
                example: String) throws -> (name: String, settings: DocumentNode?) {
        if case .scalar = node.content, !node.isNull {
            return (try word(node, path, among: names, what: what), nil)
        }
        let pairs = try mappingPairs(node, path, what: "a word (\(names.joined(separator: ", "))) or a mapping "
                                        + "such as \(example)")
        guard pairs.count == 1 else {
            throw error(node, path, "name exactly one \(what) (\(names.joined(separator: ", "))), "
                            + "found \(pairs.count) keys")
        }
        let name = try word(pairs[0].key, path, among: names, what: what)
        let settings = pairs[0].value.isNull ? nil : pairs[0].value
        record(settings ?? node, at: "\(path).\(name)")
        return (name, settings)
    }

    /// `{adam: {lr: 0.001, ...}}`, `{sgd: {lr: 0.05, momentum: 0.9}}`, or the bare word `adam` (all defaults).
    private func optimizer(_ node: DocumentNode) throws -> OptimizerSpec {
        let path = "train.optimizer"
        let (name, settings) = try choice(node, path, among: ["adam", "adamw", "sgd", "rmsprop"], what: "optimizer",
                                          example: "{adam: {lr: 0.001}}")
        // adamw is adam (whose weight decay is decoupled) with PyTorch's AdamW default decay; errors use adam's paths.
        let sub = "\(path).\(name == "adamw" ? "adam" : name)"
        if let settings { record(settings, at: sub) }
        switch name {
        case "adam", "adamw":
            let keys = ["lr", "beta1", "beta2", "eps", "weight_decay"]
            let decay: Float = name == "adamw" ? 0.01 : 0
            guard let settings else { return .adam(learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: decay) }
            let f = try fields(settings, sub, allowed: keys, what: "Adam's settings such as {lr: 0.001}")
            func value(_ key: String, _ fallback: Float) throws -> Float {
                try f.optional(key).map { try float($0, "\(sub).\(key)") } ?? fallback
            }
            return .adam(learningRate: try value("lr", 0.001), beta1: try value("beta1", 0.9),
                         beta2: try value("beta2", 0.999), epsilon: try value("eps", 1e-8),
                         weightDecay: try value("weight_decay", decay))
        case "rmsprop":
            guard let settings else { return .rmsprop(learningRate: 0.01, alpha: 0.99, epsilon: 1e-8, momentum: 0, weightDecay: 0) }
            let f = try fields(settings, sub, allowed: ["lr", "alpha", "eps", "momentum", "weight_decay"],
                               what: "RMSprop's settings such as {lr: 0.01, alpha: 0.99}")
            func value(_ key: String, _ fallback: Float) throws -> Float {
                try f.optional(key).map { try float($0, "\(sub).\(key)") } ?? fallback
            }
            return .rmsprop(learningRate: try value("lr", 0.01), alpha: try value("alpha", 0.99),
                            epsilon: try value("eps", 1e-8), momentum: try value("momentum", 0),
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

    /// `fixed | uncertainty | pcgrad | mgda | {gradnorm: {alpha: 1.5, lr: 0.025}} | {dwa: {temperature: 2.0}}`.
    private func weighting(_ node: DocumentNode) throws -> WeightingSpec {
        let path = "train.weighting"
        let names = ["fixed", "uncertainty", "pcgrad", "mgda", "gradnorm", "dwa"]
        let (name, settings) = try choice(node, path, among: names, what: "task weighting",
                                          example: "pcgrad or {gradnorm: {alpha: 1.5}}")
        let sub = "\(path).\(name)"
        switch name {
        case "gradnorm":
            guard let settings else { return .gradNorm(alpha: 1.5, learningRate: 0.025) }
            let f = try fields(settings, sub, allowed: ["alpha", "lr"], what: "GradNorm's settings such as {alpha: 1.5}")
            return .gradNorm(alpha: try f.optional("alpha").map { try float($0, "\(sub).alpha") } ?? 1.5,
                             learningRate: try f.optional("lr").map { try float($0, "\(sub).lr") } ?? 0.025)
        case "dwa":
            guard let settings else { return .dynamicWeightAverage(temperature: 2) }
            let f = try fields(settings, sub, allowed: ["temperature"], what: "DWA's settings such as {temperature: 2}")
            return .dynamicWeightAverage(
                temperature: try f.optional("temperature").map { try float($0, "\(sub).temperature") } ?? 2)
        default:
            if let settings {
                throw error(settings, sub, "'\(name)' takes no settings; write it as a bare word: weighting: \(name)")
            }
            switch name {
            case "fixed": return .fixed
            case "uncertainty": return .uncertainty
            case "pcgrad": return .pcGrad
            default: return .mgda
            }
        }
    }

    /// `constant | {step: {every_epochs: 10, gamma: 0.5}} | {cosine: {min_lr: 0}}` (bare `cosine`: min_lr 0).
    private func scheduleKind(_ node: DocumentNode) throws -> ScheduleSpec.Kind {
        let path = "train.schedule"
        let (name, settings) = try choice(node, path, among: ["constant", "step", "cosine"], what: "schedule",
                                          example: "{cosine: {min_lr: 0}}")
        let sub = "\(path).\(name)"
        switch name {
        case "step":
            guard let settings else {
                throw error(node, sub, "a step schedule needs its settings, such as "
                                + "{step: {every_epochs: 10, gamma: 0.5}}")
            }
            let f = try fields(settings, sub, allowed: ["every_epochs", "gamma"],
                               what: "the step schedule's settings such as {every_epochs: 10, gamma: 0.5}")
            return .step(everyEpochs: try int(try f.required("every_epochs"), "\(sub).every_epochs"),
                         gamma: try float(try f.required("gamma"), "\(sub).gamma"))
        case "cosine":
            guard let settings else { return .cosine(minimum: 0) }
            let f = try fields(settings, sub, allowed: ["min_lr"], what: "the cosine schedule's settings such as {min_lr: 0}")
            return .cosine(minimum: try f.optional("min_lr").map { try float($0, "\(sub).min_lr") } ?? 0)
        default:
            if let settings {
                throw error(settings, sub, "'constant' takes no settings; write schedule: constant")
            }
            return .constant
        }
    }

    /// `{monitor: digit.accuracy | digit.loss | loss, patience: 5, restore_best: true}`; whether the task and
    /// metric exist is checked by ``SpecRules``.
    private func earlyStopping(_ node: DocumentNode) throws -> EarlyStoppingSpec {
        let path = "train.early_stopping"
        let f = try fields(node, path, allowed: ["monitor", "patience", "restore_best"],
                           what: "a mapping such as {monitor: digit.accuracy, patience: 5}")
        let monitorNode = try f.required("monitor")
        let monitor = try string(monitorNode, "\(path).monitor")
        let patience = try int(try f.required("patience"), "\(path).patience")
        let restoreBest = try f.optional("restore_best").map { try bool($0, "\(path).restore_best") } ?? true
        if monitor == "loss" {
            return EarlyStoppingSpec(task: nil, metric: "loss", patience: patience, restoreBest: restoreBest)
        }
        guard let dot = monitor.firstIndex(of: "."), dot != monitor.startIndex, dot != monitor.index(before: monitor.endIndex) else {
            throw error(monitorNode, "\(path).monitor", "monitor must be 'loss' or '<task>.<metric>' such as "
                            + "'digit.accuracy' or 'digit.loss', found '\(monitor.truncatedForMessage)'")
        }
        return EarlyStoppingSpec(task: String(monitor[..<dot]), metric: String(monitor[monitor.index(after: dot)...]),
                                 patience: patience, restoreBest: restoreBest)
    }
}
