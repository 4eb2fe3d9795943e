import Foundation

/// A run's `metrics.jsonl` read back: every task's numbers per split and epoch, the gradient cosines of each pair
/// of tasks, and the Δm of `baselines.json` when the run has one.
///
/// Lines are those ``MetricsLog`` writes. A line that is not a JSON object, or lacks `epoch`, is skipped with a
/// note naming the file and line (a crash can leave a last line cut short); `null` values read as NaN. A later
/// line for the same epoch, split and task replaces an earlier one. Step lines (`"split": "step"`) are not kept.
public struct RunHistory: Sendable {
    /// One task's numbers on one split after one epoch.
    public struct Record: Sendable {
        /// The 1-based epoch.
        public var epoch: Int
        /// `"train"`, `"validation"` or `"test"`.
        public var split: String
        /// The task's name.
        public var task: String
        /// Every numeric key of the line but `epoch` (`loss`, the metrics, `weight`, `learning_rate`,
        /// `epoch_seconds`, `step`…); `null` as NaN.
        public var values: [String: Double]
    }

    /// One pair of tasks' gradient cosine after one epoch.
    public struct PairRecord: Sendable {
        /// The 1-based epoch.
        public var epoch: Int
        /// The two tasks' names.
        public var first: String, second: String
        /// The cosine of their gradients on the shared parameters (NaN when undefined).
        public var cosine: Double
    }

    /// The run's name (its folder's name).
    public var name: String
    /// Task names in the order the log first names them.
    public var tasks: [String] = []
    /// Each task's metric names, in the order its lines give them.
    public var metricNames: [String: [String]] = [:]
    /// Task lines in log order (later duplicates replace earlier ones).
    public var records: [Record] = []
    /// Gradient-cosine lines in log order.
    public var pairs: [PairRecord] = []
    /// Δm in percent from `baselines.json`, when the run has one.
    public var deltaM: Double?
    /// Each task's metrics, multi-task and single-task, from `baselines.json`.
    public var baselines: [(task: String, metric: String, multiTask: Double, singleTask: Double?)] = []
    /// What was skipped and why, one sentence each (`metrics.jsonl:7: …`).
    public var notes: [String] = []

    /// Keys of a task line that are not metrics.
    static let bookkeeping: Set<String> = ["epoch", "split", "task", "loss", "step", "weight", "learning_rate",
                                          "epoch_seconds", "labelled_rows"]

    /// Reads `<directory>/metrics.jsonl` and, when present, `<directory>/baselines.json`.
    ///
    /// - Throws: ``ReportError`` when the log is missing, unreadable or holds no valid line.
    public init(directory: URL) throws {
        let url = directory.appendingPathComponent("metrics.jsonl")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ReportError(file: url.path, line: nil, message: "cannot read the metrics log (is this a run folder?)")
        }
        try self.init(name: directory.standardizedFileURL.lastPathComponent, jsonLines: data, file: url.path)
        let baselinesURL = directory.appendingPathComponent("baselines.json")
        if let baselines = FileManager.default.contents(atPath: baselinesURL.path) {
            readBaselines(baselines, file: baselinesURL.path)
        }
    }

    /// Parses metrics lines.
    ///
    /// - Parameters:
    ///   - name: the run's name, shown in legends.
    ///   - jsonLines: the log's bytes.
    ///   - file: the path named in notes and errors.
    /// - Throws: ``ReportError`` when not one line is a valid task line.
    public init(name: String, jsonLines: Data, file: String) throws {
        self.name = name
        var index: [String: Int] = [:]
        let lines = jsonLines.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (number, bytes) in zip(1..., lines) where !bytes.allSatisfy({ $0 == 32 || $0 == 13 }) {
            let raw = String(decoding: bytes, as: UTF8.self)
            guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
                notes.append("\(file):\(number): not a JSON object\(number == lines.count ? " (cut short?)" : ""); skipped")
                continue
            }
            guard let epoch = object["epoch"] as? Int, epoch >= 1 else {
                notes.append("\(file):\(number): no epoch number of 1 or more; skipped")
                continue
            }
            if let pair = object["pair"] as? String {
                let names = pair.split(separator: "~", maxSplits: 1).map(String.init)
                guard names.count == 2 else {
                    notes.append("\(file):\(number): pair '\(pair)' is not 'a~b'; skipped")
                    continue
                }
                pairs.append(PairRecord(epoch: epoch, first: names[0], second: names[1],
                                        cosine: Self.number(object["gradient_cosine"])))
                continue
            }
            guard let split = object["split"] as? String, let task = object["task"] as? String else {
                notes.append("\(file):\(number): no split or task; skipped")
                continue
            }
            if split == "step" { continue }
            var values: [String: Double] = [:]
            for (key, value) in object where key != "epoch" && key != "split" && key != "task" {
                if value is NSNull || value is NSNumber { values[key] = Self.number(value) }
            }
            if !tasks.contains(task) { tasks.append(task) }
            // Metrics in the order the line gives them (JSONSerialization forgets the order).
            let metrics = values.keys.filter { !Self.bookkeeping.contains($0) }
                .sorted { (raw.range(of: "\"\($0)\":")?.lowerBound ?? raw.endIndex)
                    < (raw.range(of: "\"\($1)\":")?.lowerBound ?? raw.endIndex) }
            for metric in metrics where !(metricNames[task, default: []].contains(metric)) {
                metricNames[task, default: []].append(metric)
            }
            let record = Record(epoch: epoch, split: split, task: task, values: values)
            let key = "\(epoch)\u{0}\(split)\u{0}\(task)"
            if let at = index[key] { records[at] = record } else { index[key] = records.count; records.append(record) }
        }
        guard !records.isEmpty else {
            throw ReportError(file: file, line: nil, message: notes.isEmpty ? "the metrics log holds no epoch yet"
                : "the metrics log holds no valid task line (\(notes.count) line\(notes.count == 1 ? "" : "s") skipped, "
                    + "first: \(notes[0]))")
        }
    }

    /// The last epoch with a task line.
    public var lastEpoch: Int { records.map(\.epoch).max() ?? 0 }

    /// One key of one task on one split, by epoch (epochs without the key are left out).
    public func series(task: String, split: String, key: String) -> [(epoch: Int, value: Double)] {
        records.filter { $0.task == task && $0.split == split }
            .compactMap { record in record.values[key].map { (record.epoch, $0) } }
            .sorted { $0.epoch < $1.epoch }
    }

    /// One key that is the same for every task of an epoch (`learning_rate`, `epoch_seconds`), from the first task's
    /// training lines.
    public func runSeries(_ key: String) -> [(epoch: Int, value: Double)] {
        guard let task = tasks.first(where: { !series(task: $0, split: "train", key: key).isEmpty }) else { return [] }
        return series(task: task, split: "train", key: key)
    }

    /// The distinct pairs of tasks, in log order.
    public var pairNames: [String] {
        var seen: [String] = []
        for pair in pairs where !seen.contains("\(pair.first)~\(pair.second)") { seen.append("\(pair.first)~\(pair.second)") }
        return seen
    }

    /// One pair's cosine by epoch.
    public func cosines(pair: String) -> [(epoch: Int, value: Double)] {
        pairs.filter { "\($0.first)~\($0.second)" == pair }.map { ($0.epoch, $0.cosine) }.sorted { $0.epoch < $1.epoch }
    }

    private static func number(_ value: Any?) -> Double {
        (value as? NSNumber).map { $0.doubleValue } ?? .nan
    }

    private mutating func readBaselines(_ data: Data, file: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let tasks = object["tasks"] as? [[String: Any]] else {
            notes.append("\(file): not the baselines file canopy writes; Δm left out")
            return
        }
        deltaM = (object["delta_m_percent"] as? NSNumber)?.doubleValue
        for task in tasks {
            guard let name = task["task"] as? String, let own = task["multi_task"] as? [String: Any] else { continue }
            let single = task["single_task"] as? [String: Any]
            for metric in (metricNames[name] ?? own.keys.sorted()) where own[metric] != nil {
                baselines.append((name, metric, Self.number(own[metric]),
                                  single.map { Self.number($0[metric]) }))
            }
        }
    }
}

/// A metrics log or run folder that cannot be made into a report.
public struct ReportError: Error, CustomStringConvertible, Equatable {
    /// The file at fault.
    public var file: String
    /// The 1-based line, when one line is at fault.
    public var line: Int?
    /// What is wrong.
    public var message: String

    /// `file:line: message`.
    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}
