import CanopyCore

/// One task: a head on top of the shared trunk, its loss, metrics, weight and label column.
public struct TaskSpec: Equatable, Sendable {
    /// The task's name (its key under `tasks:`): letters, digits, `_` and `-`.
    public var name: String
    /// The head's layers in order (`head:`, at least one).
    public var head: [LayerSpec]
    /// The loss (`loss:`, required).
    public var loss: LossKind
    /// The metrics to report (`metrics:`); default `[accuracy]` for classification, `[mse]` for regression.
    public var metrics: [MetricKind]
    /// The task's weight in the summed loss (`weight:`), finite and ≥ 0; default 1.
    public var weight: Float
    /// The label column (`label:`); default the task's name.
    public var label: String
    /// With `graph:`, the node the head reads (`in:`); nil means the graph's last node.
    public var input: String?
    /// Per-class weights of a cross-entropy loss (`class_weights:`), when set.
    public var classWeights: ClassWeightsSpec?
    /// The loss's settings (`loss: {huber: {delta: 0.5}}`, `loss: {binary_cross_entropy: {pos_weight: 3}}`); each
    /// applies to its own loss only, and the defaults give the plain losses.
    public var lossSettings = LossSettings()
    /// `tasks.<name>`.
    public var keyPath: String
    /// Where the task's name is written.
    public var location: SourceLocation

    /// Creates a task with the model file's defaults: the loss's default metrics, weight 1, the label column named
    /// after the task, no `in:` and no class weights; `keyPath` becomes `tasks.<name>`. Values are checked later.
    public init(name: String, head: [LayerSpec], loss: LossKind, metrics: [MetricKind]? = nil,
                weight: Float = 1, label: String? = nil, location: SourceLocation = SourceLocation(file: "<code>")) {
        self.name = name
        self.head = head
        self.loss = loss
        self.metrics = metrics ?? loss.defaultMetrics
        self.weight = weight
        self.label = label ?? name
        self.keyPath = "tasks.\(name)"
        self.location = location
    }
}

extension TaskSpec {
    /// The kernel function of a regression task's loss (mean squared error for a classification task, which has
    /// none).
    var regressionLoss: RegressionLoss {
        switch loss {
        case .huber: return .huber(delta: lossSettings.delta)
        case .l1: return .l1
        case .mse, .crossEntropy, .binaryCrossEntropy: return .meanSquaredError
        }
    }
}

/// Task losses.
public enum LossKind: String, CaseIterable, Equatable, Hashable, Sendable {
    /// Softmax cross-entropy on logits `[C]` (C ≥ 2 classes); labels are class indices `0..<C`.
    case crossEntropy = "cross_entropy"
    /// Sigmoid binary cross-entropy on logits (output width ≥ 1); targets in [0, 1]; positive targets weighted by
    /// ``LossSettings/positiveWeight``.
    case binaryCrossEntropy = "binary_cross_entropy"
    /// Mean squared error for regression on one label column (output width 1).
    case mse
    /// Huber loss for regression (PyTorch's `HuberLoss`): `0.5·d²` for `|d| ≤ δ`, else `δ·(|d| − 0.5·δ)`, with δ
    /// ``LossSettings/delta``; output width 1.
    case huber
    /// Mean absolute error for regression (PyTorch's `L1Loss`); output width 1.
    case l1

    /// Whether the task is a classification (cross-entropy or binary cross-entropy).
    public var isClassification: Bool {
        switch self {
        case .crossEntropy, .binaryCrossEntropy: return true
        case .mse, .huber, .l1: return false
        }
    }

    /// The metrics a task gets when `metrics:` is absent.
    public var defaultMetrics: [MetricKind] { isClassification ? [.accuracy] : [.mse] }

    /// The settings the loss takes in a model file (`{huber: {delta: 0.5}}`); empty for a loss written as a bare word.
    public var settingNames: [String] {
        switch self {
        case .binaryCrossEntropy: return ["pos_weight"]
        case .huber: return ["delta"]
        case .crossEntropy, .mse, .l1: return []
        }
    }
}

/// The settings of a task's loss. Each applies to one loss only; the defaults give the plain losses.
public struct LossSettings: Equatable, Sendable {
    /// Huber's threshold δ between the quadratic and the linear part (`delta`), finite and > 0; default 1.
    public var delta: Float
    /// Binary cross-entropy's weight on positive targets (`pos_weight`, PyTorch's `pos_weight`), finite and > 0;
    /// default 1, the unweighted loss.
    public var positiveWeight: Float

    /// Creates settings; by default those of the plain losses.
    public init(delta: Float = 1, positiveWeight: Float = 1) {
        self.delta = delta
        self.positiveWeight = positiveWeight
    }
}

/// Per-task evaluation metrics.
public enum MetricKind: String, CaseIterable, Equatable, Hashable, Sendable {
    /// Fraction of examples whose predicted class equals the label (classification).
    case accuracy
    /// The unweighted mean over classes of per-class F1 (classification).
    case macroF1 = "macro_f1"
    /// Area under the ROC curve (binary classification: cross_entropy with 2 classes, or bce of width 1).
    case auc
    /// Precision: of the positive class for a binary task, macro-averaged over the classes seen otherwise
    /// (scikit-learn's `average="binary"` and `"macro"`; 0 for a class never predicted).
    case precision
    /// Recall, averaged like ``precision`` (0 for a class never present).
    case recall
    /// The share of rows whose label is among the 3 highest logits (cross_entropy with more than 3 classes).
    case top3Accuracy = "top3_accuracy"
    /// The share of rows whose label is among the 5 highest logits (cross_entropy with more than 5 classes).
    case top5Accuracy = "top5_accuracy"
    /// Mean squared error (regression).
    case mse
    /// Mean absolute error (regression).
    case mae
    /// Coefficient of determination `1 − SS_res/SS_tot` (regression).
    case r2

    /// For a top-k accuracy, k; nil for other metrics.
    public var topK: Int? {
        switch self {
        case .top3Accuracy: return 3
        case .top5Accuracy: return 5
        case .accuracy, .macroF1, .auc, .precision, .recall, .mse, .mae, .r2: return nil
        }
    }

    /// Whether the metric applies to classification (true) or to regression (false).
    public var isClassification: Bool {
        switch self {
        case .accuracy, .macroF1, .auc, .precision, .recall, .top3Accuracy, .top5Accuracy: return true
        case .mse, .mae, .r2: return false
        }
    }
}
