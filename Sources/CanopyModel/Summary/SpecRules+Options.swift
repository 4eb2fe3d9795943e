/// Rules for `data.options`/`data.missing`, the training options (weighting, schedule, warm-up, clipping, early
/// stopping) and the task options (`in:`, `class_weights:`). The class-weight count is checked with the head's
/// width in ``SpecRules/checkHead(_:output:)``.
extension SpecRules {
    func checkDataOptions() throws {
        let names = spec.data.options.keys.sorted { a, b in
            let (la, lb) = (spec.location(of: "data.options.\(a)"), spec.location(of: "data.options.\(b)"))
            return ((la.line ?? 0), (la.column ?? 0), a) < ((lb.line ?? 0), (lb.column ?? 0), b)
        }
        let source = spec.data.source
        let accepted = source.acceptedOptions
        for name in names {
            let path = "data.options.\(name)"
            let value = spec.data.options[name]!
            if case .csv = source {
                throw spec.error(at: path, "options apply to built-in data sets only; a CSV source takes none")
            }
            guard let option = accepted.first(where: { $0.name == name }) else {
                if accepted.isEmpty { throw spec.error(at: path, "\(source) takes no options") }
                let choices = accepted.map(\.name)
                let hint = Suggestion.didYouMean(name, among: choices)
                throw spec.error(at: path, "unknown option '\(name.truncatedForMessage)' for \(source)"
                                    + (hint.isEmpty ? " (expected one of: \(choices.joined(separator: ", ")))" : hint))
            }
            if option.isInteger && value.rounded() != value {
                throw spec.error(at: path, "\(name) (\(option.meaning)) must be a whole number, got \(value)")
            }
            if !option.range.contains(value) {
                let range = option.range.upperBound == .greatestFiniteMagnitude
                    ? "≥ \(Self.number(option.range.lowerBound))"
                    : "in \(Self.number(option.range.lowerBound))...\(Self.number(option.range.upperBound))"
                throw spec.error(at: path, "\(name) (\(option.meaning)) must be \(range), got \(Self.number(value))")
            }
        }
    }

    /// `5000` for whole numbers, `0.5` otherwise.
    static func number(_ x: Double) -> String {
        x.rounded() == x && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }

    func checkTrainingOptions() throws {
        let train = spec.train
        switch train.weighting {
        case .gradNorm(let alpha, let lr):
            try positive(alpha, "train.weighting.gradnorm.alpha", "alpha")
            try positive(lr, "train.weighting.gradnorm.lr", "lr")
        case .dynamicWeightAverage(let temperature):
            try positive(temperature, "train.weighting.dwa.temperature", "temperature")
        case .fixed, .uncertainty, .pcGrad, .mgda:
            break
        }
        switch train.schedule.kind {
        case .constant:
            break
        case .step(let every, let gamma):
            if every < 1 || every > ModelLimits.maxEpochs {
                throw spec.error(at: "train.schedule.step.every_epochs",
                                 "every_epochs must be in 1...\(ModelLimits.maxEpochs), got \(every)")
            }
            try positive(gamma, "train.schedule.step.gamma", "gamma")
        case .cosine(let minimum):
            try nonNegative(minimum, "train.schedule.cosine.min_lr", "min_lr")
            let lr = train.optimizer.learningRate
            if minimum > lr {
                throw spec.error(at: "train.schedule.cosine.min_lr",
                                 "min_lr (\(minimum)) must not exceed the optimizer's lr (\(lr))")
            }
        }
        let warmup = train.schedule.warmupEpochs
        if warmup < 0 || warmup >= train.epochs {
            throw spec.error(at: "train.warmup_epochs", "warmup_epochs must be ≥ 0 and less than epochs "
                                + "(\(train.epochs)), got \(warmup)")
        }
        if let clip = train.clipNorm { try positive(clip, "train.clip_norm", "clip_norm") }
        if let stopping = train.earlyStopping { try checkEarlyStopping(stopping) }
    }

    private func checkEarlyStopping(_ stopping: EarlyStoppingSpec) throws {
        let path = stopping.keyPath
        if stopping.patience < 1 || stopping.patience > ModelLimits.maxEpochs {
            throw spec.error(at: "\(path).patience",
                             "patience must be in 1...\(ModelLimits.maxEpochs), got \(stopping.patience)")
        }
        let monitor = "\(path).monitor"
        guard let taskName = stopping.task else {
            if stopping.metric != "loss" {
                throw spec.error(at: monitor, "monitor must be 'loss' or '<task>.<metric>', got '\(stopping.metric)'")
            }
            return
        }
        let taskNames = spec.tasks.map(\.name)
        guard let task = spec.task(named: taskName) else {
            let hint = Suggestion.didYouMean(taskName, among: taskNames)
            throw spec.error(at: monitor, "monitor names the task '\(taskName.truncatedForMessage)', which does not "
                                + "exist" + (hint.isEmpty ? " (tasks: \(taskNames.joined(separator: ", ")))" : hint))
        }
        let metrics = ["loss"] + task.metrics.map(\.rawValue)
        if !metrics.contains(stopping.metric) {
            let hint = Suggestion.didYouMean(stopping.metric, among: metrics)
            throw spec.error(at: monitor, "task '\(taskName)' does not report '\(stopping.metric.truncatedForMessage)'"
                                + (hint.isEmpty ? "" : hint) + "; it can be monitored by "
                                + metrics.map { "\(taskName).\($0)" }.joined(separator: ", "))
        }
    }

    /// `in:` needs a `graph:` (its node is checked with the graph), the loss's settings (huber's `delta`, binary
    /// cross-entropy's `pos_weight`) are finite and > 0, `class_weights:` needs a cross-entropy task.
    func checkTaskOptions() throws {
        let isGraph: Bool
        if case .graph = spec.scheme { isGraph = true } else { isGraph = false }
        for task in spec.tasks {
            let path = task.keyPath
            if task.input != nil && !isGraph {
                throw spec.error(at: "\(path).in", "'in:' picks the graph node a task reads, but this model has no "
                                    + "'graph:'; remove it")
            }
            try positive(task.lossSettings.delta, "\(path).loss.huber.delta", "huber's delta")
            try positive(task.lossSettings.positiveWeight, "\(path).loss.binary_cross_entropy.pos_weight", "pos_weight")
            guard let weights = task.classWeights else { continue }
            if task.loss != .crossEntropy {
                throw spec.error(at: "\(path).class_weights", "class_weights apply to cross_entropy tasks only; "
                                    + "this task's loss is \(task.loss.rawValue)")
            }
            guard case .explicit(let values) = weights else { continue }
            for (i, w) in values.enumerated() where !(w.isFinite && w >= 0) {
                throw spec.error(at: "\(path).class_weights[\(i)]", "a class weight must be a finite number ≥ 0, "
                                    + "got \(w)")
            }
            if !values.contains(where: { $0 > 0 }) {
                throw spec.error(at: "\(path).class_weights", "at least one class weight must be positive")
            }
        }
    }
}
