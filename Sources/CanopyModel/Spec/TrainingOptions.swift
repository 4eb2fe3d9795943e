import Foundation

/// How task losses are combined into the loss the optimizer follows (`train.weighting:`).
public enum WeightingSpec: Equatable, Sendable {
    /// `Σ_t w_t·L_t` with each task's `weight:` (`fixed`, the default).
    case fixed
    /// Uncertainty weighting (Kendall, Gal & Cipolla, 2018): learned log-variances s_t,
    /// `Σ_t exp(−s_t)·L_t + s_t` (`uncertainty`).
    case uncertainty
    /// GradNorm (Chen et al., 2018) on the last shared layer's weight (`{gradnorm: {alpha: 1.5, lr: 0.025}}`).
    case gradNorm(alpha: Float, learningRate: Float)
    /// Dynamic Weight Average (Liu, Johns & Davison, 2019) (`{dwa: {temperature: 2}}`).
    case dynamicWeightAverage(temperature: Float)
    /// PCGrad (Yu et al., 2020): per-task gradients of shared parameters projected off each other where they
    /// conflict (`pcgrad`).
    case pcGrad
    /// MGDA-UB (Sener & Koltun, 2018): the min-norm combination of the tasks' gradients with respect to the
    /// shared representation (`mgda`).
    case mgda

    /// The model-file word.
    public var keyword: String {
        switch self {
        case .fixed: return "fixed"
        case .uncertainty: return "uncertainty"
        case .gradNorm: return "gradnorm"
        case .dynamicWeightAverage: return "dwa"
        case .pcGrad: return "pcgrad"
        case .mgda: return "mgda"
        }
    }
}

/// The learning-rate schedule (`train.schedule:` and `train.warmup_epochs:`), applied per step.
public struct ScheduleSpec: Equatable, Sendable {
    /// How the rate changes after any warm-up.
    public enum Kind: Equatable, Sendable {
        /// The optimizer's rate throughout (`constant`, the default).
        case constant
        /// Multiply by `gamma` every `everyEpochs` epochs (`{step: {every_epochs: 10, gamma: 0.5}}`).
        case step(everyEpochs: Int, gamma: Float)
        /// Cosine decay from the rate to `minimum` over the run (`{cosine: {min_lr: 0}}`).
        case cosine(minimum: Float)
    }

    /// The schedule that follows warm-up (`schedule:`); default constant.
    public var kind: Kind
    /// Linear warm-up from 0 over this many epochs' steps before the schedule starts (`warmup_epochs:`, default 0).
    public var warmupEpochs: Int

    /// Creates a schedule; by default a constant rate without warm-up.
    public init(kind: Kind = .constant, warmupEpochs: Int = 0) {
        self.kind = kind
        self.warmupEpochs = warmupEpochs
    }
}

/// Stop when a validation quantity has not improved for `patience` epochs (`train.early_stopping:`):
/// `{monitor: digit.accuracy, patience: 5}`. `monitor` is `<task>.<metric>`, `<task>.loss`, or `loss` (the
/// weighted sum of validation losses). Losses and error metrics (`mse`, `mae`) are minimised, others maximised.
public struct EarlyStoppingSpec: Equatable, Sendable {
    /// The task, or nil for the weighted total loss.
    public var task: String?
    /// `loss` or a metric name.
    public var metric: String
    /// How many epochs in a row without improvement stop training (`patience:`, 1 or more).
    public var patience: Int
    /// Whether training ends with the parameters of the best epoch rather than the last (`restore_best:`,
    /// `true` by default, like Keras's `restore_best_weights`).
    public var restoreBest: Bool
    /// `train.early_stopping`, where errors about the rule are placed.
    public var keyPath: String

    /// Creates a rule; whether the task and metric exist, and the range of `patience`, are checked later.
    public init(task: String?, metric: String, patience: Int, restoreBest: Bool = true,
                keyPath: String = "train.early_stopping") {
        self.task = task; self.metric = metric; self.patience = patience; self.restoreBest = restoreBest
        self.keyPath = keyPath
    }

    /// Whether larger values are better.
    public var maximizes: Bool { !["loss", "mse", "mae"].contains(metric) }
}

/// Per-class weights of a cross-entropy task (`class_weights:`): a list with one weight per class, or
/// `balanced` (n_rows / (n_classes · n_rows_of_class), as scikit-learn computes it, from the training rows).
public enum ClassWeightsSpec: Equatable, Sendable {
    /// One weight per class, in class order; finite, ≥ 0 and not all 0.
    case explicit([Float])
    /// `n_rows / (n_classes · n_rows_of_class)` over the labelled training rows; 0 for a class with no rows.
    case balanced
}

/// Transfer (`init_from:` and `freeze:`): start from a checkpoint's parameters and keep some fixed.
public struct TransferSpec: Equatable, Sendable {
    /// A safetensors file written by Canopy (`init_from:`), resolved relative to the model file. Parameters
    /// whose names and shapes match are loaded.
    public var initFrom: URL?
    /// Whether every parameter of the file must match one of the model's by name and shape (`true`, the
    /// default), or mismatches are skipped and keep their initial values (`init_from: {path: …, strict: false}`).
    /// Either way the trainer reports what was loaded, skipped and frozen.
    public var strict: Bool
    /// What not to train (`freeze:`): `shared` (the stem), a scheme keyword (`mmoe`, `cross_stitch`, ...), a
    /// layer key path (`shared[0]`, `tasks.digit.head[1]`) or a parameter-name prefix (`experts.3`).
    public var freeze: [String]

    /// Creates a transfer section; by default nothing is loaded and nothing is frozen.
    public init(initFrom: URL? = nil, strict: Bool = true, freeze: [String] = []) {
        self.initFrom = initFrom
        self.strict = strict
        self.freeze = freeze
    }
}
