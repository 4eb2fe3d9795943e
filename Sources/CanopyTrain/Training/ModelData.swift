import CanopyModel
import Foundation

/// The examples a model file names, loaded, checked against the model's tasks and split.
public struct ModelData: Sendable {
    /// The rows the model trains on.
    public var train: Dataset
    /// The rows held out for validation: split off the training data at random, or read from their own file.
    public var validation: Dataset
    /// Rows scored once after training (`data.test:`), or nil.
    public var test: Dataset?
    /// The text and categorical encodings fitted on the training rows (`input.text:` / `input.categorical:`), or
    /// nil; every split above is already encoded with it.
    public var encoding: InputEncoding?

    /// Puts data sets together as they are, without checking them against a model (see ``load(for:)`` for that).
    public init(train: Dataset, validation: Dataset, test: Dataset? = nil) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// Loads `spec.data.source`, checks every task's labels against its head and splits by `data.validation`
    /// with `data.seed` — or, when `data.validation` names data of its own, loads and checks that instead; then
    /// loads and checks `data.test` when given. Every file must have the same input columns as the training data.
    ///
    /// A task none of whose training rows has a label is refused: it could only train on a NaN loss. The
    /// validation rows may lack a task's labels; that task's validation loss and metrics are then NaN (see
    /// ``TaskScore``).
    ///
    /// - Throws: ``DataError`` when the data cannot be read (see ``CSVDataset``), for a label that does not fit its
    ///   task (naming the file, line, row and task; see ``check(_:against:)``) and when no training row has a label
    ///   for a task; ``ModelFileError`` when the data lacks a task's label column or has the wrong number of inputs.
    ///
    /// With `input.text:` or `input.categorical:`, the encoding is fitted on the training rows only, after the
    /// split (or `encoding` is used as given, as read from a checkpoint), and applied to every split; the encoded
    /// feature count must then equal `input.shape` (a ``ModelFileError`` at `input.shape` naming the count).
    public static func load(for spec: ModelSpec, encoding given: InputEncoding? = nil) throws -> ModelData {
        var train = try loadDataset(for: spec)
        try check(train, from: spec.data.source, against: spec)
        let validation: Dataset
        if let source = spec.data.validationSource {
            validation = try loadMatching(source, like: train, for: spec)
        } else {
            // In place: the training rows stay where they were loaded instead of being copied next to the whole set.
            validation = try splitOffValidation(&train, validationFraction: spec.data.validation, seed: spec.data.seed)
        }
        try checkEveryTaskHasTrainingLabels(train, validation: validation, spec: spec)
        var test = try spec.data.testSource.map { try loadMatching($0, like: train, for: spec) }
        guard let encoding = given ?? InputEncoding.fitted(for: spec.input, on: train) else {
            return ModelData(train: train, validation: validation, test: test)
        }
        let numeric = train.featureCount
        train = encoding.apply(to: train)
        guard train.featureCount == spec.input.featureCount else {
            throw ModelFileError(location: spec.input.location, keyPath: "input.shape",
                message: "input.shape \(spec.input.shape) holds \(spec.input.featureCount) values but the inputs give "
                    + "\(train.featureCount) (\(encoding.describe(numeric: numeric)), fitted on the training rows); "
                    + "write shape: [\(train.featureCount)]")
        }
        test = test.map(encoding.apply(to:))
        var data = ModelData(train: train, validation: encoding.apply(to: validation), test: test)
        data.encoding = encoding
        return data
    }

    /// Loads validation or test data, checks its labels and that its input columns are the training data's.
    private static func loadMatching(_ source: DataSource, like train: Dataset, for spec: ModelSpec) throws -> Dataset {
        // The columns are compared with the training data's (already checked against input.shape) by name.
        let dataset = try loadDataset(source, for: spec, checkingShape: false,
                                      classNames: classNaming(for: spec, like: train))
        guard dataset.featureNames == train.featureNames else {
            let missing = train.featureNames.filter { !dataset.featureNames.contains($0) }
            let extra = dataset.featureNames.filter { !train.featureNames.contains($0) }
            var detail = missing.isEmpty && extra.isEmpty ? "they come in another order" : ""
            if !missing.isEmpty { detail += "it lacks " + missing.prefix(5).joined(separator: ", ") }
            if !extra.isEmpty { detail += (detail.isEmpty ? "" : "; ") + "it adds " + extra.prefix(5).joined(separator: ", ") }
            throw DataError(file: dataFileName(source), message: "its input columns are not the training data's "
                + "(\(detail)); give every file the same columns, or name them in input.columns")
        }
        try check(dataset, from: source, against: spec)
        return dataset
    }

    /// Throws for the first task (in model-file order) without a single labelled training row.
    static func checkEveryTaskHasTrainingLabels(_ train: Dataset, validation: Dataset, spec: ModelSpec) throws {
        for task in spec.tasks {
            guard let column = train.labels[task.label], column.presentCount == 0 else { continue }
            let labelled = validation.labels[task.label]?.presentCount ?? 0
            let reason = labelled == 0
                ? "all \(train.rowCount) are empty or missing markers"
                : "all \(train.rowCount) are empty or missing markers; the \(labelled) labelled "
                    + "row\(labelled == 1 ? "" : "s") fell in the validation split"
            throw DataError(file: dataFileName(spec.data.source), column: task.label,
                            message: "task '\(task.name)': no training row has a label in column '\(task.label)' "
                                + "(\(reason))")
        }
    }

    /// Loads the whole data set a spec names, without splitting.
    public static func loadDataset(for spec: ModelSpec) throws -> Dataset {
        try loadDataset(spec.data.source, for: spec)
    }

    /// Loads one data set the way a spec reads its data (its label columns, input columns and missing markers).
    public static func loadDataset(_ source: DataSource, for spec: ModelSpec) throws -> Dataset {
        try loadDataset(source, for: spec, checkingShape: true, classNames: classNaming(for: spec, like: nil))
    }

    /// Which label columns may hold class names and how they map: a cross-entropy task's column learns its names
    /// from the training data; later data (validation, test, new rows) must use the training data's names, or be
    /// numeric where the training data was.
    public static func classNaming(for spec: ModelSpec, like train: Dataset?) -> [String: ClassNames] {
        var naming: [String: ClassNames] = [:]
        for task in spec.tasks where task.loss == .crossEntropy {
            guard let train else { naming[task.label] = .learn; continue }
            if let names = train.labels[task.label]?.classNames { naming[task.label] = .fixed(names) }
        }
        return naming
    }

    private static func loadDataset(_ source: DataSource, for spec: ModelSpec, checkingShape: Bool,
                                    classNames: [String: ClassNames]) throws -> Dataset {
        let labels = Array(Set(spec.tasks.map(\.label))).sorted()
        let dataset: Dataset
        switch source {
        case let .builtin(name):
            dataset = try BuiltinDataset.load(named: name, options: spec.data.options)
        case let .csv(url):
            let numeric = spec.input.hasEncodedColumns ? spec.input.columns ?? [] : spec.input.columns
            dataset = try CSVDataset.load(url: url, inputColumns: numeric, labelColumns: labels,
                                          missing: spec.data.missing, classNames: classNames,
                                          textColumns: spec.input.text.map { [$0.column] } ?? [],
                                          categoryColumns: spec.input.categorical?.columns ?? [])
        case let .images(url, fileColumn):
            dataset = try ImageFolderDataset.load(url: url, fileColumn: fileColumn, shape: spec.input.shape,
                                                  labelColumns: labels, missing: spec.data.missing,
                                                  classNames: classNames)
        case let .numpy(features, labelFiles):
            dataset = try NumpyDataset.load(features: features, labels: labelFiles, shape: spec.input.shape)
        }
        for task in spec.tasks where dataset.labels[task.label] == nil {
            throw ModelFileError(location: task.location, keyPath: "\(task.keyPath).label",
                message: "the data (\(source)) has no label column '\(task.label)'; it has: \(dataset.labelNames.joined(separator: ", "))")
        }
        if spec.input.hasEncodedColumns {
            guard case .csv = source else {
                let path = spec.input.text != nil ? "input.text" : "input.categorical"
                throw ModelFileError(location: spec.location(of: path), keyPath: path,
                                     message: "text and categorical inputs need CSV data; \(source) has only numbers")
            }
            return dataset   // the encoded feature count is checked once the encoding is fitted
        }
        guard !checkingShape || dataset.featureCount == spec.input.featureCount else {
            throw ModelFileError(location: spec.input.location, keyPath: "input.shape",
                message: "input.shape \(spec.input.shape) holds \(spec.input.featureCount) values but the data (\(source)) has \(dataset.featureCount) input columns")
        }
        return dataset
    }

    /// Checks that every present label fits its task: class indices inside the head's classes, binary targets
    /// in [0, 1], finite regression targets.
    ///
    /// Labels are compared in floating point, so no value (`1e30`, `9.3e18`, `-1`, `2.5`, NaN) traps.
    ///
    /// - Throws: ``DataError`` naming the data file, the row (1-based, of `dataset`), the label column and the
    ///   task, for example `data.csv:14: column 'digit': row 12, task 'digit' (tasks.digit): label 1e+30 is not a
    ///   class index in 0..<10 (the head has 10 outputs)`. For a CSV source the line is looked up in the file,
    ///   which assumes `dataset` holds the file's rows in order (as loaded, not split).
    public static func check(_ dataset: Dataset, against spec: ModelSpec) throws {
        try check(dataset, from: spec.data.source, against: spec)
    }

    /// ``check(_:against:)`` for rows read from `source` (named in errors).
    public static func check(_ dataset: Dataset, from source: DataSource, against spec: ModelSpec) throws {
        let summary = try summarize(spec)
        for task in spec.tasks {
            guard let column = dataset.labels[task.label] else { continue }
            let width = summary.tasks.first { $0.name == task.name }?.outputShape.last ?? 0
            if let names = column.classNames, names.count > width {
                let shown = names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "")
                throw DataError(file: dataFileName(source), column: task.label,
                                message: "task '\(task.name)' (\(task.keyPath)): the data names \(names.count) classes "
                                    + "(\(shown)) but the head gives \(width) outputs")
            }
            for row in 0..<dataset.rowCount where column.present[row] {
                let value = column.values[row]
                let problem: String?
                switch task.loss {
                case .crossEntropy:
                    problem = classIndex(of: value, classCount: width) != nil ? nil
                        : "label \(formatLabel(value)) is not a class index in 0..<\(width) (the head has \(width) outputs)"
                case .binaryCrossEntropy:
                    problem = (value >= 0 && value <= 1) ? nil
                        : "binary cross-entropy targets must be in [0, 1], got \(formatLabel(value))"
                case .mse, .huber, .l1:
                    problem = value.isFinite ? nil : "regression target \(formatLabel(value)) is not finite"
                }
                if let problem {
                    var line: Int?
                    if case let .csv(url) = source { line = CSVDataset.line(ofRow: row, in: url) }
                    if case let .images(url, _) = source { line = CSVDataset.line(ofRow: row, in: url) }
                    throw DataError(file: dataFileName(source), line: line, column: task.label,
                                    message: "row \(row + 1), task '\(task.name)' (\(task.keyPath)): \(problem)")
                }
            }
        }
    }

    /// The data's name in errors: the CSV path as given (as ``CSVDataset`` names it), or `builtin:NAME`.
    static func dataFileName(_ source: DataSource) -> String {
        switch source {
        case let .csv(url): return url.relativePath
        case .builtin: return source.description
        case let .images(url, _): return url.relativePath
        case let .numpy(features, _): return features.relativePath
        }
    }
}

/// A label as a person would write it: `7` rather than `7.0`; `2.5`, `1e+30` and `nan` as Swift prints them.
func formatLabel(_ value: Float) -> String {
    if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
}
