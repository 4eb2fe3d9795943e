import Foundation

/// Formats evaluation scores as aligned lines, one per split and task, with the numbers as the training log
/// prints them (``EpochTable``: four decimals, short metric names):
/// ```
/// train       digit   loss 0.1234 acc 0.9712 f1 0.9705  (1438 labelled rows)
/// train       parity  loss 0.0411 acc 0.9861            (1438 labelled rows)
/// validation  digit   loss 0.1502 acc 0.9611 f1 0.9600  (359 labelled rows)
/// ```
/// A task without any labelled row shows `no labelled rows` instead of numbers.
public enum ScoreTable {
    /// The lines for several splits (joined by `\n`, no trailing newline), in the order given.
    public static func render(_ sections: [(split: String, scores: [TaskScore])]) -> String {
        let rows = sections.flatMap { section in section.scores.map { (section.split, $0) } }
        let splitWidth = rows.map(\.0.count).max() ?? 0
        let taskWidth = rows.map(\.1.task.count).max() ?? 0
        let numbers = rows.map { numbersText($0.1) }
        let numbersWidth = numbers.map(\.count).max() ?? 0
        return rows.indices.map { i in
            let (split, score) = rows[i]
            var line = padded(split, to: splitWidth) + "  " + padded(score.task, to: taskWidth) + "  "
            if score.labelledRows == 0 { return line + "no labelled rows" }
            line += padded(numbers[i], to: numbersWidth) + "  (\(score.labelledRows) labelled rows)"
            return line
        }.joined(separator: "\n")
    }

    /// `loss 0.1234 acc 0.9712 f1 0.9705`.
    public static func numbersText(_ score: TaskScore) -> String {
        (["loss " + format(score.loss)] + score.metrics.map { EpochTable.abbreviation($0.name) + " " + format($0.value) })
            .joined(separator: " ")
    }

    private static func format(_ value: Double) -> String {
        value.isFinite ? String(format: "%.4f", value) : (value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"))
    }
}
