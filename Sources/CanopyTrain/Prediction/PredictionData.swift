import CanopyModel
import Foundation

/// Loads the rows to predict or evaluate on: a CSV file or a builtin data set, whose label columns may be absent.
///
/// Input columns are the spec's `input.columns` when it gives them, else every column that is not one of the
/// tasks' label names (whether or not that label column is in the file), in file order. Label columns that are
/// present are read (an empty cell, or one of the model file's `data.missing` markers, is a missing label);
/// absent ones are simply not in ``Dataset/labels``. A builtin data set named by the model file is loaded with the
/// model file's `data.options`.
public enum PredictionData {
    /// Where the rows come from, as the command line names it.
    public enum Source: Equatable, Sendable, CustomStringConvertible {
        /// A data set shipped with Canopy, by name (`builtin:digits`).
        case builtin(String)
        /// A CSV file with a header row.
        case csv(URL)
        /// Images named by a labels CSV (the model file's `{images: labels.csv}` source).
        case images(URL, fileColumn: String)
        /// NumPy arrays (the model file's `{features: x.npy, labels: {...}}` source).
        case numpy(features: URL, labels: [String: URL])

        /// `builtin:NAME` names a builtin data set, a `.npy` path a NumPy features array (no labels), and anything
        /// else a CSV path (relative to the working directory): a labels CSV naming images, read with the same file
        /// column, when `model` trained on images, and a CSV of features otherwise.
        public init(parsing text: String, for model: ModelSpec? = nil) {
            if text.hasPrefix("builtin:") {
                self = .builtin(String(text.dropFirst("builtin:".count)))
                return
            }
            let url = URL(fileURLWithPath: text)
            if url.pathExtension.lowercased() == "npy" {
                self = .numpy(features: url, labels: [:])
            } else if case let .images(_, fileColumn)? = model?.data.source {
                self = .images(url, fileColumn: fileColumn)
            } else {
                self = .csv(url)
            }
        }

        /// The model file's own `data.source`.
        public init(_ source: DataSource) {
            switch source {
            case let .builtin(name): self = .builtin(name)
            case let .csv(url): self = .csv(url)
            case let .images(url, fileColumn): self = .images(url, fileColumn: fileColumn)
            case let .numpy(features, labels): self = .numpy(features: features, labels: labels)
            }
        }

        /// The same source as a model file's `data.source` (for messages that name the data).
        public var dataSource: DataSource {
            switch self {
            case let .builtin(name): return .builtin(name)
            case let .csv(url): return .csv(url)
            case let .images(url, fileColumn): return .images(labels: url, fileColumn: fileColumn)
            case let .numpy(features, labels): return .numpy(features: features, labels: labels)
            }
        }

        public var description: String {
            switch self {
            case let .builtin(name): return "builtin:\(name)"
            case let .csv(url): return url.relativePath
            case let .images(url, _): return url.relativePath
            case let .numpy(features, _): return features.relativePath
            }
        }
    }

    /// Loads every row of `source` (not split) for `spec`. Label columns whose classes had names in training
    /// (`classNames`, from the checkpoint) map names the same way; a name training never saw is an error.
    ///
    /// - Throws: ``DataError`` when the file cannot be read or parsed (see ``CSVDataset``), or when the number of
    ///   input columns is not the model's input size (naming the file and the expected count).
    ///
    /// With `input.text:` or `input.categorical:`, `encoding` (read from the checkpoint with
    /// ``InputEncoding/init(metadata:input:file:)``) turns the text and categories into features exactly as in
    /// training; text or categories training never saw become unknown words and all-zero / id-1 categories.
    public static func load(_ source: Source, for spec: ModelSpec, classNames: [String: [String]] = [:],
                            encoding: InputEncoding? = nil) throws -> Dataset {
        let labelNames = Array(Set(spec.tasks.map(\.label))).sorted()
        var dataset: Dataset
        let file: String
        switch source {
        case let .builtin(name):
            // The model file's options (rows, seed, ...) apply when it names the same builtin data.
            let options = spec.data.source == .builtin(name) ? spec.data.options : [:]
            dataset = try BuiltinDataset.load(named: name, options: options)
            file = source.description
            if spec.input.hasEncodedColumns {
                throw DataError(file: file, message: "the model reads text or categorical inputs, which need a CSV file")
            }
        case let .csv(url):
            file = url.relativePath
            let header = try readHeader(url: url, file: file)
            let present = labelNames.filter { header.contains($0) }
            let inputs = spec.input.hasEncodedColumns ? spec.input.columns ?? []
                : spec.input.columns ?? header.filter { !labelNames.contains($0) }
            dataset = try CSVDataset.load(url: url, inputColumns: inputs, labelColumns: present,
                                          missing: spec.data.missing,
                                          classNames: classNames.mapValues { ClassNames.fixed($0) }
                                              .filter { present.contains($0.key) },
                                          textColumns: spec.input.text.map { [$0.column] } ?? [],
                                          categoryColumns: spec.input.categorical?.columns ?? [])
        case let .images(url, fileColumn):
            file = url.relativePath
            let header = try readHeader(url: url, file: file)
            let present = labelNames.filter { header.contains($0) }
            dataset = try ImageFolderDataset.load(url: url, fileColumn: fileColumn, shape: spec.input.shape,
                                                  labelColumns: present, missing: spec.data.missing,
                                                  classNames: classNames.mapValues { ClassNames.fixed($0) }
                                                      .filter { present.contains($0.key) })
        case let .numpy(features, labels):
            file = features.relativePath
            dataset = try NumpyDataset.load(features: features, labels: labels, shape: spec.input.shape)
        }
        if spec.input.hasEncodedColumns {
            guard let encoding else {
                throw DataError(file: file, message: "the model reads text or categorical inputs, which need the "
                                    + "vocabulary and categories fitted in training (from the checkpoint)")
            }
            dataset = encoding.apply(to: dataset)
        }
        guard dataset.featureCount == spec.input.featureCount else {
            var message = "has \(dataset.featureCount) input columns but the model expects "
                + "\(spec.input.featureCount) (input.shape \(spec.input.shape))"
            if spec.input.columns == nil {
                message += "; the input columns are every column that is not a task label ("
                    + labelNames.joined(separator: ", ") + ")"
            }
            throw DataError(file: file, message: message)
        }
        return dataset
    }

    /// Checks the labels `dataset` has against the spec's tasks (class indices inside the head's classes, binary
    /// targets in [0, 1], finite regression targets), naming `source` in errors.
    public static func checkLabels(_ dataset: Dataset, from source: Source, against spec: ModelSpec) throws {
        var named = spec
        named.data.source = source.dataSource
        try ModelData.check(dataset, against: named)
    }

    /// The header's column names (trimmed as ``CSVDataset`` trims them), reading only the first record.
    private static func readHeader(url: URL, file: String) throws -> [String] {
        var reader = try CSVReader(try CSVDataset.open(url, file: file), file: file)
        var header: [String]?
        do {
            try reader.forEachRecord { fields in
                header = fields.strings.map { String(trimmingSpacesAndTabs($0)) }
                throw HeaderRead()
            }
        } catch is HeaderRead {}
        guard let header else {
            throw DataError(file: file, message: "the file is empty; a header row naming the columns is required")
        }
        return header
    }

    /// Stops the CSV reader after the header record.
    private struct HeaderRead: Error {}
}
