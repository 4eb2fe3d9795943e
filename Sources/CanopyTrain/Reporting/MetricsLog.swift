import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON Lines file of training metrics: one object per (epoch, split, task), one object per line.
///
/// ```
/// {"epoch":3,"split":"train","task":"digit","loss":0.1234,"accuracy":0.9712,"macro_f1":0.9701,"step":69}
/// ```
/// Keys come in a fixed order: `epoch`, `split`, `task`, `loss`, the metrics in the order given, then the extra
/// keys sorted by name. Non-finite numbers (a NaN loss, an undefined metric) are written as `null`. Each line
/// goes to the operating system in a single `write(2)` as soon as ``append(epoch:split:task:loss:metrics:extra:)``
/// is called, so a crash of the process loses nothing already appended. Read it back with any JSON Lines reader
/// (`pandas.read_json(path, lines=True)`).
public final class MetricsLog {
    /// The file written.
    public let url: URL
    private let descriptor: Int32

    /// Opens the log, creating the file if needed.
    ///
    /// - Parameters:
    ///   - url: the file.
    ///   - appending: `false` (the default) starts a new log, emptying an existing file; `true` adds lines after
    ///     the existing ones (when resuming a run).
    /// - Throws: ``CheckpointError`` naming the file when it cannot be opened.
    public init(url: URL, appending: Bool = false) throws {
        self.url = url
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (appending ? 0 : O_TRUNC)
        descriptor = open(url.path, flags, 0o644)
        guard descriptor >= 0 else {
            throw CheckpointError(file: url.relativePath,
                                  message: "cannot open the metrics log: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }

    /// Appends one line for one task on one split after one epoch.
    ///
    /// - Parameters:
    ///   - epoch: the 1-based epoch.
    ///   - split: `"train"` or `"validation"` (any string is written as given).
    ///   - task: the task's name.
    ///   - loss: the task's mean loss.
    ///   - metrics: metric names and values, in the order to write them.
    ///   - extra: further numeric keys, such as `"step"` or `"weight"`.
    /// - Throws: ``CheckpointError`` when a key is repeated or the line cannot be written.
    public func append(epoch: Int, split: String, task: String, loss: Double,
                       metrics: [(name: String, value: Double)], extra: [String: Double] = [:]) throws {
        try appendRecord(try Self.line(epoch: epoch, split: split, task: task, loss: loss, metrics: metrics,
                                       extra: extra, file: url.relativePath))
    }

    /// Appends a gradient-conflict line: `{"epoch": 3, "split": "train", "pair": "digit~parity",
    /// "gradient_cosine": 0.12}`.
    public func appendPair(epoch: Int, pair: String, gradientCosine: Double) throws {
        try appendRecord(Self.pairLine(epoch: epoch, pair: pair, gradientCosine: gradientCosine))
    }

    /// Appends whole lines (each ending in a newline) in one `write(2)`. When the write fails part-way (a full
    /// disk), the file is cut back to where it was, so that the log never holds half a line.
    ///
    /// - Throws: ``CheckpointError`` naming the file and the system's reason.
    public func appendRecord(_ lines: String) throws {
        if let reason = appendWhole(Array(lines.utf8), to: descriptor) {
            throw CheckpointError(file: url.relativePath, message: "cannot write the metrics log: \(reason)")
        }
    }

    // MARK: Formatting

    /// One task's line, ending in a newline (see the type's description for the key order).
    static func line(epoch: Int, split: String, task: String, loss: Double,
                     metrics: [(name: String, value: Double)], extra: [String: Double], file: String) throws -> String {
        var keys: Set<String> = ["epoch", "split", "task", "loss"]
        var line = "{\"epoch\":\(epoch),\"split\":\(jsonString(split)),\"task\":\(jsonString(task)),"
            + "\"loss\":\(jsonNumber(loss))"
        for (name, value) in metrics + extra.sorted(by: { $0.key < $1.key }).map({ ($0.key, $0.value) }) {
            guard keys.insert(name).inserted else {
                throw CheckpointError(file: file, message: "metrics log key '\(name)' is given twice")
            }
            line += ",\(jsonString(name)):\(jsonNumber(value))"
        }
        return line + "}\n"
    }

    /// A gradient-conflict line, ending in a newline.
    static func pairLine(epoch: Int, pair: String, gradientCosine: Double) -> String {
        "{\"epoch\":\(epoch),\"split\":\"train\",\"pair\":\(jsonString(pair)),"
            + "\"gradient_cosine\":\(jsonNumber(gradientCosine))}\n"
    }

    /// Every line of one epoch's report: with `log_every_step`, each step's loss of each task (`"split":
    /// "step"`, with the step, its learning rate and the task's weight); then each task on each split (with its
    /// weight, the step and, for training, the learning rate and the epoch's wall-clock seconds
    /// `epoch_seconds`; logs written before it was added lack it), then each pair of tasks' gradient cosine.
    public static func lines(for report: EpochReport, file: String = "metrics.jsonl") throws -> String {
        var text = ""
        let tasks = report.train.map(\.task)
        for record in report.stepRecords {
            for (t, task) in tasks.enumerated() where t < record.losses.count {
                var extra: [String: Double] = ["step": Double(record.step),
                                               "learning_rate": Double(record.learningRate)]
                if t < record.weights.count { extra["weight"] = record.weights[t] }
                text += try line(epoch: report.epoch, split: "step", task: task, loss: record.losses[t],
                                 metrics: [], extra: extra, file: file)
            }
        }
        for (split, scores) in [("train", report.train), ("validation", report.validation)] {
            for (t, score) in scores.enumerated() {
                var extra: [String: Double] = ["step": Double(report.steps)]
                if t < report.weights.count { extra["weight"] = report.weights[t] }
                if split == "train" {
                    extra["learning_rate"] = Double(report.learningRate)
                    extra["epoch_seconds"] = report.seconds
                }
                text += try line(epoch: report.epoch, split: split, task: score.task, loss: score.loss,
                                 metrics: score.metrics, extra: extra, file: file)
            }
        }
        for pair in report.gradientCosines {
            text += pairLine(epoch: report.epoch, pair: "\(pair.first)~\(pair.second)", gradientCosine: pair.cosine)
        }
        return text
    }
}
