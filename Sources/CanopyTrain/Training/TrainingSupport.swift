import CanopyCore
import CanopyModel
import Foundation

/// Per-class loss weights of cross-entropy tasks (`class_weights:`), resolved against the training rows.
enum ClassWeighting {
    /// For each task, its class weights, or nil when it has none.
    static func resolve(_ spec: ModelSpec, model: ModelGraph, train: Dataset) throws -> [[Float]?] {
        try model.tasks.map { task -> [Float]? in
            guard let weights = task.spec.classWeights else { return nil }
            switch weights {
            case let .explicit(values):
                guard values.count == task.width else {
                    throw ModelFileError(location: task.spec.location, keyPath: "\(task.spec.keyPath).class_weights",
                                         message: "\(values.count) class weights for a head of \(task.width) classes")
                }
                return values
            case .balanced:
                guard let column = train.labels[task.spec.label] else { return nil }
                return balancedClassWeights(column, classes: task.width)
            }
        }
    }
}

/// Early stopping's memory: the best monitored value and how many epochs have passed without beating it.
struct EarlyStoppingState: Equatable {
    var best: Double?
    var bestEpoch = 0
    var epochsWithoutImprovement = 0

    /// Records an epoch; true when the run should stop after it.
    mutating func update(with report: EpochReport, spec: ModelSpec) throws -> Bool {
        guard let rule = spec.train.earlyStopping, !report.validation.isEmpty else { return false }
        let value: Double
        if let task = rule.task {
            guard let score = report.validation.first(where: { $0.task == task }) else { return false }
            value = rule.metric == "loss" ? score.loss : (score.metric(rule.metric) ?? .nan)
        } else {
            // Tasks without a labelled validation row score NaN; the total is over the tasks that can be scored.
            value = zip(spec.tasks, report.validation).filter { $0.1.labelledRows > 0 }
                .reduce(0) { $0 + Double($1.0.weight) * $1.1.loss }
        }
        guard value.isFinite else { return false }
        if let best, rule.maximizes ? value <= best : value >= best {
            epochsWithoutImprovement += 1
        } else {
            best = value
            bestEpoch = report.epoch
            epochsWithoutImprovement = 0
        }
        return epochsWithoutImprovement >= rule.patience
    }
}
