/// The range rules of a spec's values outside its layers: data split, input, training, tasks and how each head
/// fits its loss and metrics (here); data options, training options and task options (SpecRules+Options);
/// the sharing schemes' values and graph references (SpecRules+Schemes). Every failure is a ``ModelFileError`` placed at the value's recorded location.
struct SpecRules {
    let spec: ModelSpec

    func check() throws {
        try checkName()
        try checkData()
        try checkDataOptions()
        try checkInput()
        try checkTrain()
        try checkTrainingOptions()
        try checkTasks()
        try checkTaskOptions()
        try checkScheme()
    }

    private func checkData() throws {
        let v = spec.data.validation
        guard spec.data.validationSource != nil || v.isFinite && v > 0 && v < 1 else {
            throw spec.error(at: "data.validation", "validation fraction must be in (0, 1), got \(v)")
        }
        let sources: [(String, DataSource?)] = [("data.source", spec.data.source),
                                                ("data.validation", spec.data.validationSource),
                                                ("data.test", spec.data.testSource)]
        for case let (path, .builtin(name)?) in sources where !DataSource.builtinNames.contains(name) {
            throw spec.error(at: path, "unknown built-in data set '\(name)'"
                                + Suggestion.didYouMean(name, among: DataSource.builtinNames))
        }
    }

    private func checkInput() throws {
        let shape = spec.input.shape
        guard shape.count == 1 || shape.count == 3 else {
            throw spec.error(at: "input.shape", "shape must be [features] or [channels, height, width], "
                                + "got \(shape.count) dimensions")
        }
        for (i, d) in shape.enumerated() {
            if d < 1 { throw spec.error(at: "input.shape[\(i)]", "dimension must be positive, got \(d)") }
            if d > ModelLimits.maxDimension {
                throw spec.error(at: "input.shape[\(i)]", "dimension \(d) is absurdly large "
                                    + "(the limit is \(ModelLimits.maxDimension))")
            }
        }
        if spec.input.featureCount > ModelLimits.maxActivationCount {
            throw spec.error(at: "input.shape", "an example of \(spec.input.featureCount) scalars is absurdly large")
        }
        if !spec.input.scale.isFinite || spec.input.scale == 0 {
            throw spec.error(at: "input.scale", "scale must be a finite non-zero number, got \(spec.input.scale)")
        }
        if spec.input.hasEncodedColumns {
            try checkEncodedInput()
        } else if let columns = spec.input.columns {
            if columns.count != spec.input.featureCount {
                throw spec.error(at: "input.columns", "\(columns.count) columns given but input.shape "
                                    + "\(ModelSummary.shape(shape)) needs \(spec.input.featureCount)")
            }
            try checkUnique(columns, path: "input.columns", what: "column")
        }
    }

    private func checkTrain() throws {
        let train = spec.train
        if train.batchSize < 1 || train.batchSize > ModelLimits.maxBatchSize {
            throw spec.error(at: "train.batch_size", "batch_size must be in 1...\(ModelLimits.maxBatchSize), "
                                + "got \(train.batchSize)")
        }
        if train.epochs < 1 || train.epochs > ModelLimits.maxEpochs {
            throw spec.error(at: "train.epochs", "epochs must be in 1...\(ModelLimits.maxEpochs), got \(train.epochs)")
        }
        switch train.optimizer {
        case .sgd(let lr, let momentum, let decay):
            try positive(lr, "train.optimizer.sgd.lr", "lr")
            try unit(momentum, "train.optimizer.sgd.momentum", "momentum")
            try nonNegative(decay, "train.optimizer.sgd.weight_decay", "weight_decay")
        case .adam(let lr, let beta1, let beta2, let eps, let decay):
            try positive(lr, "train.optimizer.adam.lr", "lr")
            try unit(beta1, "train.optimizer.adam.beta1", "beta1")
            try unit(beta2, "train.optimizer.adam.beta2", "beta2")
            try positive(eps, "train.optimizer.adam.eps", "eps")
            try nonNegative(decay, "train.optimizer.adam.weight_decay", "weight_decay")
        case .rmsprop(let lr, let alpha, let eps, let momentum, let decay):
            try positive(lr, "train.optimizer.rmsprop.lr", "lr")
            try unit(alpha, "train.optimizer.rmsprop.alpha", "alpha")
            try positive(eps, "train.optimizer.rmsprop.eps", "eps")
            try unit(momentum, "train.optimizer.rmsprop.momentum", "momentum")
            try nonNegative(decay, "train.optimizer.rmsprop.weight_decay", "weight_decay")
        }
    }

    /// The name becomes the default run folder `runs/<name>`, so it must be one plain file name.
    private func checkName() throws {
        let name = spec.name
        if name.isEmpty { throw spec.error(at: "name", "the model's name is empty") }
        if name.utf8.count > ModelSpec.maximumNameLength {
            throw spec.error(at: "name", "the model's name is \(name.utf8.count) bytes long; at most "
                                + "\(ModelSpec.maximumNameLength) are allowed (it names the run folder runs/<name>)")
        }
        if name == "." || name == ".." || name.contains("/") || name.contains("\\")
            || name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw spec.error(at: "name", "the model's name '\(name.truncatedForMessage)' must be a plain file name "
                                + "(no '/', '\\', control characters, '.' or '..'): it names the run folder runs/<name>")
        }
    }

    private func checkTasks() throws {
        guard !spec.tasks.isEmpty else { throw spec.error(at: "tasks", "a model needs at least one task") }
        try checkUnique(spec.tasks.map(\.name), path: "tasks", what: "task")
        for task in spec.tasks {
            let path = task.keyPath
            if !TaskSpec.isValidName(task.name) {
                throw spec.error(at: path, "task name '\(task.name.truncatedForMessage)' may only use letters, digits, "
                                    + "'_' and '-', at most \(TaskSpec.maximumNameLength) of them")
            }
            if task.head.isEmpty { throw spec.error(at: "\(path).head", "a head needs at least one layer") }
            if !task.weight.isFinite || task.weight < 0 {
                throw spec.error(at: "\(path).weight", "weight must be a finite number ≥ 0, got \(task.weight)")
            }
            if task.label.isEmpty { throw spec.error(at: "\(path).label", "label is empty") }
            if task.metrics.isEmpty { throw spec.error(at: "\(path).metrics", "list at least one metric") }
            try checkUnique(task.metrics.map(\.rawValue), path: "\(path).metrics", what: "metric")
            for (i, metric) in task.metrics.enumerated() where metric.isClassification != task.loss.isClassification {
                let kind = task.loss.isClassification ? "classification" : "regression"
                throw spec.error(at: "\(path).metrics[\(i)]", "metric '\(metric.rawValue)' does not fit a \(kind) "
                                    + "task (loss \(task.loss.rawValue)); use "
                                    + MetricKind.allCases.filter { $0.isClassification == task.loss.isClassification }
                                        .map(\.rawValue).joined(separator: ", "))
            }
        }
    }

    /// How a head's last layer and output width fit the task's loss and metrics.
    func checkHead(_ task: TaskSpec, output: [Int]) throws {
        let path = task.keyPath
        guard let last = task.head.last else { return }
        guard output.count == 1 else {
            throw ModelFileError(location: last.location, keyPath: last.keyPath,
                                 message: "a head must end with a flat output but this one ends with "
                                    + "\(ModelSummary.shape(output)); add 'flatten' and a dense layer")
        }
        let width = output[0]
        switch task.loss {
        case .crossEntropy:
            guard task.head.last(where: { !$0.kind.layer.keepsFeatures })?.kind.layer is DenseLayer else {
                throw ModelFileError(location: last.location, keyPath: last.keyPath,
                                     message: "a cross_entropy head must end with a dense layer (one logit per class)")
            }
            if width < 2 {
                throw ModelFileError(location: last.location, keyPath: last.keyPath,
                                     message: "cross_entropy needs at least 2 classes but the head gives \(width); "
                                        + "use binary_cross_entropy for one logit")
            }
            for (i, metric) in task.metrics.enumerated() {
                if let k = metric.topK, width <= k {
                    throw spec.error(at: "\(path).metrics[\(i)]", "\(metric.rawValue) needs more than \(k) classes, "
                                        + "but the head gives \(width)")
                }
            }
        case .binaryCrossEntropy, .mse, .huber, .l1:
            if width != 1 {
                throw ModelFileError(location: last.location, keyPath: last.keyPath,
                                     message: "a \(task.loss.rawValue) head predicts one label column, so its output "
                                        + "width must be 1, got \(width)")
            }
        }
        if case .explicit(let weights)? = task.classWeights, task.loss == .crossEntropy, weights.count != width {
            throw spec.error(at: "\(path).class_weights", "\(weights.count) class weights given but the head has "
                                + "\(width) classes; give one weight per class")
        }
        if task.loss != .crossEntropy, let i = task.metrics.firstIndex(where: { $0.topK != nil }) {
            throw spec.error(at: "\(path).metrics[\(i)]", "\(task.metrics[i].rawValue) ranks the classes of a "
                                + "cross_entropy head; this task's loss is \(task.loss.rawValue)")
        }
        let binary = (task.loss == .crossEntropy && width == 2) || (task.loss == .binaryCrossEntropy && width == 1)
        if let i = task.metrics.firstIndex(of: .auc), !binary {
            throw spec.error(at: "\(path).metrics[\(i)]", "auc needs a binary task (cross_entropy with 2 classes "
                                + "or binary_cross_entropy of width 1), but this head gives \(width) outputs")
        }
    }

    func positive(_ x: Float, _ path: String, _ name: String) throws {
        if !(x.isFinite && x > 0) { throw spec.error(at: path, "\(name) must be a finite number > 0, got \(x)") }
    }

    func nonNegative(_ x: Float, _ path: String, _ name: String) throws {
        if !(x.isFinite && x >= 0) { throw spec.error(at: path, "\(name) must be a finite number ≥ 0, got \(x)") }
    }

    func unit(_ x: Float, _ path: String, _ name: String) throws {
        if !(x >= 0 && x < 1) { throw spec.error(at: path, "\(name) must be in [0, 1), got \(x)") }
    }

    func checkUnique(_ names: [String], path: String, what: String) throws {
        var seen = Set<String>()
        for (i, name) in names.enumerated() {
            if name.isEmpty { throw spec.error(at: "\(path)[\(i)]", "\(what) name is empty") }
            if !seen.insert(name).inserted {
                throw spec.error(at: "\(path)[\(i)]", "\(what) '\(name)' is listed twice")
            }
        }
    }
}

extension TaskSpec {
    /// The longest task name, in characters.
    public static let maximumNameLength = 128

    /// Whether `name` can be a task name (it becomes part of parameter names such as `tasks.<name>.head.0.weight`).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.count <= maximumNameLength && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
    }
}
