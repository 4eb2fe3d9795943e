import Foundation

/// Formats one line per task after an epoch, aligned so that successive epochs read as a table:
/// ```
/// epoch  3  digit   train loss 0.1234 acc 0.9712 f1 0.9705 | val loss 0.1502 acc 0.9611 f1 0.9600
/// epoch  3  parity  train loss 0.0411 acc 0.9861          | val loss 0.0533 acc 0.9833
/// ```
/// Metric names are shortened (``abbreviation(_:)``), values have four decimals, undefined values show as `nan`.
/// Rows without a validation score have no `| val` part.
public enum EpochTable {
    /// One task's numbers on one split.
    public struct TaskLine: Sendable {
        /// The task's name.
        public var task: String
        /// The task's mean loss.
        public var loss: Double
        /// Metric names and values in display order.
        public var metrics: [(name: String, value: Double)]

        /// Creates a line's numbers; `metrics` are shown in the order given.
        public init(task: String, loss: Double, metrics: [(name: String, value: Double)]) {
            self.task = task
            self.loss = loss
            self.metrics = metrics
        }
    }

    /// The lines for one epoch, joined by `\n` (no trailing newline), one per training task in order.
    ///
    /// - Parameters:
    ///   - epoch: the 1-based epoch number; padded to the width of `epochs`.
    ///   - train: each task's training numbers.
    ///   - validation: each task's validation numbers, matched to `train` by task name; may be empty.
    public static func render(epoch: Int, epochs: Int, train: [TaskLine], validation: [TaskLine]) -> String {
        let epochWidth = String(max(epochs, epoch)).count
        let taskWidth = train.map(\.task.count).max() ?? 0
        let trainParts = train.map(numbers)
        let trainWidth = trainParts.map(\.count).max() ?? 0
        return train.indices.map { t in
            let task = train[t].task
            var line = "epoch " + pad(String(epoch), to: epochWidth, left: true) + "  "
                + pad(task, to: taskWidth, left: false) + "  train " + trainParts[t]
            if let v = validation.first(where: { $0.task == task }) {
                line = pad(line, to: line.count + trainWidth - trainParts[t].count, left: false)
                line += " | val " + numbers(v)
            }
            return line
        }.joined(separator: "\n")
    }

    /// The short name shown for a metric: `accuracy` → `acc`, `macro_f1` → `f1`, `r2` → `r²`; others as given.
    public static func abbreviation(_ metric: String) -> String {
        switch metric {
        case "accuracy": return "acc"
        case "macro_f1": return "f1"
        case "r2": return "r²"
        default: return metric
        }
    }

    private static func numbers(_ line: TaskLine) -> String {
        (["loss " + format(line.loss)] + line.metrics.map { abbreviation($0.name) + " " + format($0.value) })
            .joined(separator: " ")
    }

    private static func format(_ value: Double) -> String {
        value.isFinite ? String(format: "%.4f", value) : (value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"))
    }

    private static func pad(_ text: String, to width: Int, left: Bool) -> String {
        let padding = String(repeating: " ", count: max(width - text.count, 0))
        return left ? padding + text : text + padding
    }
}
