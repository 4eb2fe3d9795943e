import CanopyModel
import Foundation

/// The examples a model file names, loaded, checked against the model's tasks and split.
public struct ModelData {
    /// The rows the model trains on.
    public var train: Dataset
    /// The rows held out for validation (may be empty when `data.validation` is 0).
    public var validation: Dataset

    /// Pairs two data sets as they are, without checking them against a model (see ``load(for:)`` for that).
    public init(train: Dataset, validation: Dataset) {
        self.train = train
        self.validation = validation
    }

    /// Loads `spec.data.source`, checks every task's labels against its head and splits by `data.validation`
    /// with `data.seed`.
    ///
    /// - Throws: ``DataError`` or ``ModelFileError`` naming the file, the task and the offending row.
    public static func load(for spec: ModelSpec) throws -> ModelData {
        let dataset = try loadDataset(for: spec)
        try check(dataset, against: spec)
        let split = try splitTrainValidation(dataset, validationFraction: spec.data.validation, seed: spec.data.seed)
        return ModelData(train: split.train, validation: split.validation)
    }

    /// Loads the whole data set a spec names, without splitting.
    public static func loadDataset(for spec: ModelSpec) throws -> Dataset {
        let labels = Array(Set(spec.tasks.map(\.label))).sorted()
        let dataset: Dataset
        switch spec.data.source {
        case let .builtin(name):
            dataset = try BuiltinDataset.load(named: name, options: spec.data.options)
        case let .csv(url):
            dataset = try CSVDataset.load(url: url, inputColumns: spec.input.columns, labelColumns: labels,
                                          missing: spec.data.missing)
        }
        for task in spec.tasks where dataset.labels[task.label] == nil {
            throw ModelFileError(location: task.location, keyPath: "\(task.keyPath).label",
                message: "the data (\(spec.data.source)) has no label column '\(task.label)'; it has: \(dataset.labelNames.joined(separator: ", "))")
        }
        guard dataset.featureCount == spec.input.featureCount else {
            throw ModelFileError(location: spec.input.location, keyPath: "input.shape",
                message: "input.shape \(spec.input.shape) holds \(spec.input.featureCount) values but the data (\(spec.data.source)) has \(dataset.featureCount) input columns")
        }
        return dataset
    }

    /// Checks that every present label fits its task: class indices inside the head's classes, binary targets
    /// in [0, 1], finite regression targets.
    public static func check(_ dataset: Dataset, against spec: ModelSpec) throws {
        let summary = try summarize(spec)
        for task in spec.tasks {
            guard let column = dataset.labels[task.label] else { continue }
            let width = summary.tasks.first { $0.name == task.name }?.outputShape.last ?? 0
            for row in 0..<dataset.rowCount where column.present[row] {
                let value = column.values[row]
                let problem: String?
                switch task.loss {
                case .crossEntropy:
                    problem = (value.rounded() != value || value < 0 || value >= Float(width))
                        ? "label \(value) is not a class index in 0..<\(width): the head has \(width) outputs" : nil
                case .binaryCrossEntropy:
                    problem = (value >= 0 && value <= 1) ? nil : "binary cross-entropy targets must be in [0, 1], got \(value)"
                case .mse:
                    problem = value.isFinite ? nil : "regression target \(value) is not finite"
                }
                if let problem {
                    throw ModelFileError(location: task.location, keyPath: task.keyPath,
                        message: "\(spec.data.source), row \(row + 1), column '\(task.label)': \(problem)")
                }
            }
        }
    }
}
