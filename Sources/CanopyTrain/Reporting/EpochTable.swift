import Foundation

/// Formats one line per task after an epoch, aligned so that successive epochs read as a table:
/// ```
/// epoch  3  digit   train loss 0.1234 acc 0.9712 f1 0.9705 | val loss 0.1502 acc 0.9611 f1 0.9600   [0.14 s]
/// epoch  3  parity  train loss 0.0411 acc 0.9861          | val loss 0.0533 acc 0.9833
/// epoch 10  value   train loss 10.123 mae 2.5517 r² -0.151 | val loss 6.0956 mae 2.0716 r² 0.2172
/// ```
/// Every column has a width fixed for the run, so the columns stay aligned across tasks and epochs: the epoch is
/// padded to the width of the run's last epoch, task names to the longest name, the train part to the widest
/// task's, and every number is exactly six characters (``number(_:)``: four decimals, fewer for values from 10 or
/// below 0). Metric names are shortened (``abbreviation(_:)``), undefined values show as `nan`. Rows without a
/// validation score have no `| val` part.
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
    ///   - seconds: the epoch's wall-clock time, shown as `[0.14 s]` at the end of the first line, or nil for
    ///     none.
    public static func render(epoch: Int, epochs: Int, train: [TaskLine], validation: [TaskLine],
                              seconds: Double? = nil) -> String {
        let epochWidth = String(max(epochs, epoch)).count
        let taskWidth = train.map(\.task.count).max() ?? 0
        let trainParts = train.map(numbers)
        let trainWidth = trainParts.map(\.count).max() ?? 0
        return train.indices.map { t in
            var line = "epoch " + padded(String(epoch), to: epochWidth, alignRight: true) + "  "
                + padded(train[t].task, to: taskWidth) + "  train " + trainParts[t]
            if let v = validation.first(where: { $0.task == train[t].task }) {
                line = padded(line, to: line.count + trainWidth - trainParts[t].count)
                line += " | val " + numbers(v)
            }
            // The first task's line has the same width every epoch, so the time column stays in place.
            if t == 0, let seconds { line += String(format: "   [%.2f s]", seconds) }
            return line
        }.joined(separator: "\n")
    }

    /// `value` in exactly six characters (for magnitudes below 10⁶): four decimals when they fit (`0.1234`),
    /// fewer otherwise (`10.123`, `-0.151`, `123456`), an exponent beyond that (`1e+07`), and `nan`, `inf`, `-inf`,
    /// right-aligned.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else {
            return padded(value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"), to: 6, alignRight: true)
        }
        for decimals in stride(from: 4, through: 0, by: -1) {
            let text = String(format: "%.\(decimals)f", value)
            if text.count <= 6 { return padded(text, to: 6, alignRight: true) }
        }
        return padded(String(format: "%.0e", value), to: 6, alignRight: true)
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
        (["loss " + number(line.loss)] + line.metrics.map { abbreviation($0.name) + " " + number($0.value) })
            .joined(separator: " ")
    }
}
