import Foundation

/// A whole multi-task model as a model file describes it: data, input, shared trunk, task heads and training.
///
/// Read one with ``ModelFile/load(contentsOf:)`` or ``ModelFile/parse(_:fileName:baseDirectory:)``, or build
/// one in code. ``summarize(_:)`` checks that the shapes fit and counts parameters; loading a file runs it, so a
/// spec that came from a file always fits. The properties are `var`s so a command line can override them (see
/// ``with(epochs:)`` and friends, which also check the new value).
public struct ModelSpec: Equatable, Sendable {
    /// The model's name (`name:`): one plain file name (it names the run folder `runs/<name>`), non-empty and
    /// at most ``maximumNameLength`` bytes.
    public var name: String
    /// The longest model name, in UTF-8 bytes (what file systems allow for one path component).
    public static let maximumNameLength = 255
    /// The optional free-text `description:`.
    public var description: String?
    /// Where the examples come from and how they are split (`data:`).
    public var data: DataSpec
    /// The per-example input (`input:`).
    public var input: InputSpec
    /// The stem all tasks share (`shared:`), in order; may be empty. With ``scheme`` `.hard` it is the whole
    /// shared trunk; otherwise the scheme builds on its output.
    public var shared: [LayerSpec]
    /// How tasks share parameters after the stem (`mmoe:`, `cross_stitch:`, `soft_sharing:`, `graph:`).
    public var scheme: SharingScheme = .hard
    /// A learned per-task sigmoid gate on what each task reads (`task_gating: true`).
    public var taskGating = false
    /// Transfer learning: `init_from:` and `freeze:`.
    public var transfer = TransferSpec()
    /// The tasks in file order (`tasks:`); at least one.
    public var tasks: [TaskSpec]
    /// Optimizer, batch size, epochs and seed (`train:`).
    public var train: TrainSpec
    /// The model file's text exactly as read (empty for a spec built in code); checkpoints can store it.
    public var sourceText: String
    /// The model file, when the spec was loaded from disk.
    public var fileURL: URL?
    /// The name errors use for this spec's file (the file's last path component, or `"<code>"`).
    public var fileName: String
    /// Where logs go besides the run folder (`log:`): TensorBoard event files.
    public var log = LogSpec()
    /// Where each value was written, by key path (`train.epochs`, `shared[0].conv2d.kernel`,
    /// `tasks.digit.metrics[1]`, ...). Empty for a spec built in code. Use ``location(of:)`` to look one up.
    public var locations: [String: SourceLocation]

    /// Creates a spec in code: hard sharing, no task gating and no transfer (set those properties afterwards), no
    /// source text and no recorded locations, so errors name only `fileName`. Values are not validated here.
    public init(name: String, description: String? = nil, data: DataSpec, input: InputSpec,
                shared: [LayerSpec], tasks: [TaskSpec], train: TrainSpec,
                sourceText: String = "", fileURL: URL? = nil, fileName: String = "<code>",
                locations: [String: SourceLocation] = [:]) {
        self.name = name
        self.description = description
        self.data = data
        self.input = input
        self.shared = shared
        self.tasks = tasks
        self.train = train
        self.sourceText = sourceText
        self.fileURL = fileURL
        self.fileName = fileName
        self.locations = locations
    }

    /// The task with this name, if any.
    public func task(named name: String) -> TaskSpec? { tasks.first { $0.name == name } }

    /// Where the value at `keyPath` was written: the recorded place of the longest recorded prefix of the path
    /// (`shared[0].dense.units` falls back to `shared[0].dense`, then `shared[0]`, then `shared`), or the file.
    public func location(of keyPath: String) -> SourceLocation {
        var path = Substring(keyPath)
        while !path.isEmpty {
            if let found = locations[String(path)] { return found }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            path = path[..<cut]
        }
        return SourceLocation(file: fileName)
    }

    /// An error at `keyPath`, placed with ``location(of:)``.
    public func error(at keyPath: String, _ message: String) -> ModelFileError {
        ModelFileError(location: location(of: keyPath), keyPath: keyPath, message: message)
    }
}

/// Where the training examples come from.
public enum DataSource: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A data set shipped with Canopy, by name (`builtin:digits` gives `.builtin("digits")`).
    case builtin(String)
    /// A CSV file with a header row; a relative path in the model file is resolved against the file's directory.
    case csv(URL)
    /// PNG or JPEG images named by a CSV of labels (`{images: labels.csv, file_column: file}`): column
    /// `fileColumn` of each row names an image file, relative to the CSV's directory; the other columns are labels.
    case images(labels: URL, fileColumn: String)
    /// NumPy `.npy` arrays (`{features: x.npy, labels: {digit: y.npy}}`): features `[N, ...]` and one array of `N`
    /// labels per label column.
    case numpy(features: URL, labels: [String: URL])

    /// The names `builtin:<name>` accepts (``builtinOptions`` lists what each takes in `data.options:`).
    public static let builtinNames = ["digits", "multidigits", "synthetic-mmoe"]

    public var description: String {
        switch self {
        case .builtin(let name): return "builtin:\(name)"
        case .csv(let url): return url.path
        case .images(let labels, _): return labels.path
        case .numpy(let features, _): return features.path
        }
    }
}

/// The `data:` section.
public struct DataSpec: Equatable, Sendable {
    /// The examples (`source:`, or `train:` beside a validation or test file; required).
    public var source: DataSource
    /// The fraction of examples held out for validation (`validation: 0.2`), in (0, 1); default 0.2. Unused when
    /// ``validationSource`` is set.
    public var validation: Double
    /// Validation rows from data of their own (`validation: valid.csv`) instead of a random split of ``source``.
    public var validationSource: DataSource?
    /// Rows scored once after training and never used to choose anything (`test: test.csv`); nil for none.
    public var testSource: DataSource?
    /// The seed of the train/validation split (`seed:`); default 0.
    public var seed: UInt64
    /// Cell texts that mean "no label" in a CSV (`missing: ["", "NA", -1]`), besides the empty cell; numbers
    /// written in the file become their text as written (`-1` → `"-1"`). Default none.
    public var missing: [String] = []
    /// A built-in data set's settings as written (`options: {rows: 5000, seed: 3}`); see
    /// ``DataSource/builtinOptions`` for what each takes, and ``option(_:)`` for a value with its default.
    public var options: [String: Double] = [:]
    /// Where `source:` is written, so a data loader can place a missing file or column
    /// (``ModelSpec/location(of:)`` finds any other value).
    public var location: SourceLocation

    /// Creates a data section with the model file's defaults: 20% held out, split seed 0, no missing-label texts and
    /// no options. Values are not validated here.
    public init(source: DataSource, validation: Double = 0.2, seed: UInt64 = 0,
                location: SourceLocation = SourceLocation(file: "<code>")) {
        self.source = source
        self.validation = validation
        self.seed = seed
        self.location = location
    }
}

/// The optimizer and its hyper-parameters (`train.optimizer:`).
public enum OptimizerSpec: Equatable, Sendable {
    /// Stochastic gradient descent with heavy-ball momentum and L2 weight decay added to the gradient:
    /// `v ← momentum·v + (g + weightDecay·w)`, `w ← w − learningRate·v`.
    case sgd(learningRate: Float, momentum: Float, weightDecay: Float)
    /// Adam (Kingma & Ba) with bias correction; a non-zero `weightDecay` is decoupled (AdamW, Loshchilov & Hutter):
    /// `w ← w − learningRate·(m̂/(√v̂ + epsilon) + weightDecay·w)`.
    case adam(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float)
    /// RMSprop (PyTorch's, not centered): `s ← alpha·s + (1−alpha)·g²` with `g` the gradient plus
    /// `weightDecay·w`; `w ← w − learningRate·g/(√s + epsilon)`, or through a momentum buffer when `momentum` > 0.
    case rmsprop(learningRate: Float, alpha: Float, epsilon: Float, momentum: Float, weightDecay: Float)

    /// Adam with the usual defaults: lr 0.001, beta1 0.9, beta2 0.999, eps 1e-8, no weight decay.
    public static func adam(learningRate: Float = 0.001) -> OptimizerSpec {
        .adam(learningRate: learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0)
    }

    /// The optimizer's learning rate.
    public var learningRate: Float {
        switch self {
        case .sgd(let lr, _, _): return lr
        case .adam(let lr, _, _, _, _): return lr
        case .rmsprop(let lr, _, _, _, _): return lr
        }
    }
}

/// The `train:` section.
public struct TrainSpec: Equatable, Sendable {
    /// The optimizer (`optimizer:`, required).
    public var optimizer: OptimizerSpec
    /// Examples per step (`batch_size:`, required), at least 1.
    public var batchSize: Int
    /// Passes over the training examples (`epochs:`, required), at least 1.
    public var epochs: Int
    /// The seed of initialisation, shuffling and dropout (`seed:`); default 0.
    public var seed: UInt64
    /// How task losses combine (`weighting:`); default fixed weights.
    public var weighting: WeightingSpec = .fixed
    /// Whether each epoch visits the training rows in a new random order (`shuffle:`, default `true`); `false`
    /// keeps the file's order.
    public var shuffle = true
    /// Whether `metrics.jsonl` gets one line per optimizer step with every task's loss (`log_every_step:`,
    /// default `false`).
    public var logEveryStep = false
    /// The learning-rate schedule (`schedule:`, `warmup_epochs:`).
    public var schedule = ScheduleSpec()
    /// Clip the global gradient norm to this value (`clip_norm:`), when set.
    public var clipNorm: Float?
    /// Stop early on a validation quantity (`early_stopping:`), when set.
    public var earlyStopping: EarlyStoppingSpec?

    /// Creates a train section with the model file's defaults for everything not given: fixed weighting, a constant
    /// learning rate without warm-up, no gradient clipping and no early stopping. Values are not validated here.
    public init(optimizer: OptimizerSpec, batchSize: Int, epochs: Int, seed: UInt64 = 0) {
        self.optimizer = optimizer
        self.batchSize = batchSize
        self.epochs = epochs
        self.seed = seed
    }
}
