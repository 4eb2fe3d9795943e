import CanopyModel
import Foundation

/// The text formats predictions can be written in.
public enum PredictionFormat: String, Sendable {
    /// Comma-separated values with a header row; one column group per task, in task order:
    /// ```
    /// row,digit.class,digit.p0,…,digit.p9,large.class,large.probability,value.value
    /// 0,3,0.0012,…,0.0003,0,0.1187,2.9104
    /// ```
    case csv
    /// One JSON object per line:
    /// `{"row": 0, "digit": {"class": 3, "probabilities": [0.0012, …]}, "large": {"class": 0, "probability": 0.1187},
    /// "value": {"value": 2.9104}}`.
    case jsonLines = "jsonl"

    /// The format an output file's extension asks for: `.csv` → CSV, `.jsonl` or `.json` → JSON lines.
    ///
    /// - Throws: ``PredictionError`` for any other extension.
    public init(forFile url: URL) throws {
        switch url.pathExtension.lowercased() {
        case "csv": self = .csv
        case "jsonl", "json": self = .jsonLines
        default:
            throw PredictionError(file: url.relativePath, message: "cannot tell the output format from the extension "
                + "'\(url.pathExtension)'; use .csv, .jsonl or .json")
        }
    }
}

/// Writes predictions row by row, as CSV or JSON lines, to a ``TextSink``.
///
/// Numbers are written as Swift prints a `Float` (the shortest text that reads back to the same value: `0.25`,
/// `1e-05`); a value that is not finite is `nan`/`inf` in CSV and `null` in JSON.
public final class PredictionWriter {
    /// The text format written.
    public let format: PredictionFormat
    /// The tasks whose predictions each row holds, in order.
    public let tasks: [PredictedTask]
    private let sink: TextSink
    private var line = ""

    /// Starts the output (the CSV header is written at once).
    public init(format: PredictionFormat, tasks: [PredictedTask], sink: TextSink) throws {
        self.format = format
        self.tasks = tasks
        self.sink = sink
        if format == .csv { try sink.write(Self.csvHeader(tasks) + "\n") }
    }

    /// The CSV header: `row`, then per task `<task>.class,<task>.p0,…` (cross-entropy), `<task>.class,
    /// <task>.probability` (binary cross-entropy) or `<task>.value` (regression).
    public static func csvHeader(_ tasks: [PredictedTask]) -> String {
        var columns = ["row"]
        for task in tasks {
            switch task.loss {
            case .crossEntropy:
                columns.append("\(task.name).class")
                columns += (0..<task.width).map { "\(task.name).p\($0)" }
            case .binaryCrossEntropy: columns += ["\(task.name).class", "\(task.name).probability"]
            case .mse, .huber, .l1: columns.append("\(task.name).value")
            }
        }
        return columns.map(csvField).joined(separator: ",")
    }

    /// Writes one row's predictions, one per task in ``tasks`` order.
    ///
    /// - Throws: ``PredictionError`` when the predictions do not match the tasks (a programming error made
    ///   visible), or when the sink cannot write.
    public func write(row: Int, _ predictions: [TaskPrediction]) throws {
        guard predictions.count == tasks.count else {
            throw PredictionError(file: "predictions", message: "row \(row) has \(predictions.count) predictions "
                + "for \(tasks.count) tasks")
        }
        line.removeAll(keepingCapacity: true)
        switch format {
        case .csv:
            line += String(row)
            for (task, prediction) in zip(tasks, predictions) {
                switch prediction {
                case let .classes(predicted, probabilities):
                    line += "," + (task.className(predicted).map(Self.csvField) ?? String(predicted))
                    for p in probabilities { line += "," + Self.csvNumber(p) }
                case let .binary(predicted, probability):
                    line += "," + String(predicted) + "," + Self.csvNumber(probability)
                case let .value(value):
                    line += "," + Self.csvNumber(value)
                }
            }
        case .jsonLines:
            line += "{\"row\": " + String(row)
            for (task, prediction) in zip(tasks, predictions) {
                line += ", " + jsonString(task.name) + ": {"
                switch prediction {
                case let .classes(predicted, probabilities):
                    line += "\"class\": \(task.className(predicted).map(jsonString) ?? String(predicted)), \"probabilities\": ["
                        + probabilities.map(Self.jsonNumber).joined(separator: ", ") + "]"
                case let .binary(predicted, probability):
                    line += "\"class\": \(predicted), \"probability\": " + Self.jsonNumber(probability)
                case let .value(value):
                    line += "\"value\": " + Self.jsonNumber(value)
                }
                line += "}"
            }
            line += "}"
        }
        line += "\n"
        try sink.write(line)
    }

    /// Ends the output: see ``TextSink/finish()``.
    public func finish() throws { try sink.finish() }

    private static func csvNumber(_ value: Float) -> String {
        value.isFinite ? "\(value)" : (value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"))
    }

    private static func jsonNumber(_ value: Float) -> String { value.isFinite ? "\(value)" : "null" }

    /// A CSV field, quoted when it holds a comma, a quote or a line break.
    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension PredictedTask {
    /// The name of class `index` when the task's classes have names.
    func className(_ index: Int) -> String? {
        guard let classNames, classNames.indices.contains(index) else { return nil }
        return classNames[index]
    }
}
