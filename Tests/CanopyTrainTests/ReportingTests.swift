import XCTest
@testable import CanopyTrain

/// The metrics log (JSON Lines), the progress bar and the per-epoch table.
final class ReportingTests: XCTestCase {
    func testMetricsLogWritesOneParsableObjectPerLine() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-log-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try "old line\n".write(to: url, atomically: false, encoding: .utf8)
        let log = try MetricsLog(url: url)
        try log.append(epoch: 3, split: "train", task: "digit", loss: 0.125,
                       metrics: [(name: "accuracy", value: 0.9712), (name: "macro_f1", value: .nan)],
                       extra: ["weight": 0.5, "step": 69])
        // Each line is on disk as soon as append returns (read before the log is closed).
        let first = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(first, #"{"epoch":3,"split":"train","task":"digit","loss":0.125,"accuracy":0.9712,"macro_f1":null,"step":69,"weight":0.5}"#
                           + "\n")
        try log.append(epoch: 3, split: "validation", task: "we\"ird\n\u{1}name", loss: .infinity, metrics: [])
        XCTAssertThrowsError(try log.append(epoch: 1, split: "train", task: "t", loss: 0,
                                            metrics: [(name: "loss", value: 1)]))
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2, "a new log empties the file; a rejected line writes nothing")
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as! [String: Any]
        XCTAssertEqual(second["task"] as? String, "we\"ird\n\u{1}name")
        XCTAssertTrue(second["loss"] is NSNull)
        XCTAssertEqual(second["split"] as? String, "validation")

        let resumed = try MetricsLog(url: url, appending: true)
        try resumed.append(epoch: 4, split: "train", task: "digit", loss: 1e-7, metrics: [])
        let all = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(all.count, 3)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(all[2].utf8)) as! [String: Any])["loss"] as? Double, 1e-7)
    }

    func testMetricsLogReportsUnopenableFiles() {
        let url = URL(fileURLWithPath: "/nonexistent-canopy-dir/metrics.jsonl")
        XCTAssertThrowsError(try MetricsLog(url: url)) { error in
            XCTAssertEqual("\(error)", "/nonexistent-canopy-dir/metrics.jsonl: cannot open the metrics log: No such file or directory")
        }
    }

    func testJSONHelpers() {
        XCTAssertEqual(jsonString("a\"b\\c\td\u{7}é"), #""a\"b\\c\td\u0007é""#)
        XCTAssertEqual(jsonNumber(3), "3")
        XCTAssertEqual(jsonNumber(-0.25), "-0.25")
        XCTAssertEqual(jsonNumber(.nan), "null")
        XCTAssertEqual(jsonNumber(-.infinity), "null")
        XCTAssertEqual(Double(jsonNumber(0.1)), 0.1)
    }

    func testProgressBarRendersWithinTheWidth() {
        XCTAssertEqual(ProgressBar.render(epoch: 3, of: 30, batch: 12, of: 23, loss: 0.41234, width: 80),
                       "epoch 3/30 [###############...............] 12/23 batches  loss 0.4123")
        for width in [1, 10, 40, 50, 60, 200] {
            let line = ProgressBar.render(epoch: 3, of: 30, batch: 12, of: 23, loss: .nan, width: width)
            XCTAssertLessThan(line.count, max(width, 1), "width \(width): \(line)")
        }
        XCTAssertEqual(ProgressBar.render(epoch: 3, of: 30, batch: 12, of: 23, loss: 0.5, width: 47),
                       "epoch 3/30 [###...] 12/23 batches  loss 0.5000")
        XCTAssertEqual(ProgressBar.render(epoch: 3, of: 30, batch: 12, of: 23, loss: 0.5, width: 40),
                       "epoch 3/30 12/23 batches  loss 0.5000")
    }

    func testProgressBarThrottlesAndStaysSilentOffATerminal() {
        var time = 0.0
        var written: [String] = []
        var bar = ProgressBar(isTerminal: true, width: 80, clock: { time }, output: { written.append($0) })
        for batch in 1...10 {
            bar.update(epoch: 1, of: 2, batch: batch, of: 10, loss: 1)
            time += 0.03
        }
        // Drawn at t = 0, 0.12, 0.24 and for the last batch.
        XCTAssertEqual(written.count, 4, "\(written)")
        XCTAssertTrue(written.allSatisfy { $0.hasPrefix("\r") })
        XCTAssertTrue(written.last!.contains("10/10 batches"))
        bar.clear()
        XCTAssertEqual(written.last, "\r\u{1B}[K")

        var silent: [String] = []
        var offTerminal = ProgressBar(isTerminal: false, width: 80, clock: { 0 }, output: { silent.append($0) })
        offTerminal.update(epoch: 1, of: 1, batch: 1, of: 1, loss: 0)
        offTerminal.clear()
        XCTAssertEqual(silent, [])
    }

    func testEpochTableAlignsTasksAndSplits() {
        let train = [EpochTable.TaskLine(task: "digit", loss: 0.12344, metrics: [("accuracy", 0.9712), ("macro_f1", 0.97)]),
                     EpochTable.TaskLine(task: "parity", loss: 0.0411, metrics: [("accuracy", 0.98611)])]
        let validation = [EpochTable.TaskLine(task: "parity", loss: 0.0533, metrics: [("accuracy", .nan)]),
                          EpochTable.TaskLine(task: "digit", loss: 0.1502, metrics: [("accuracy", 0.9611), ("macro_f1", 0.96)])]
        XCTAssertEqual(EpochTable.render(epoch: 3, epochs: 30, train: train, validation: validation), """
            epoch  3  digit   train loss 0.1234 acc 0.9712 f1 0.9700 | val loss 0.1502 acc 0.9611 f1 0.9600
            epoch  3  parity  train loss 0.0411 acc 0.9861           | val loss 0.0533 acc    nan
            """)
        XCTAssertEqual(EpochTable.render(epoch: 12, epochs: 9, train: [train[1]], validation: []),
                       "epoch 12  parity  train loss 0.0411 acc 0.9861")
    }

    /// Tasks with different metric sets and name lengths, values of different magnitudes and signs, epochs from
    /// 1 to 12 and the time column: every column starts at the same place on every line of the run.
    func testEpochTableColumnsStayAlignedAcrossEpochsAndTasks() {
        var lines: [String] = []
        for (epoch, scale) in [(1, 1.0), (9, 10.0), (10, -1.0), (12, 1000.0)] {
            let train = [EpochTable.TaskLine(task: "d", loss: 0.5 * scale, metrics: [("accuracy", 0.9), ("macro_f1", .nan)]),
                         EpochTable.TaskLine(task: "a-long-name", loss: 0.1234 * scale, metrics: [("r2", -0.25 * scale)])]
            let validation = train.map { EpochTable.TaskLine(task: $0.task, loss: $0.loss * 2, metrics: $0.metrics) }
            lines += EpochTable.render(epoch: epoch, epochs: 12, train: train, validation: validation,
                                       seconds: 0.5 * Double(epoch) * scale.magnitude)
                .split(separator: "\n").map(String.init)
        }
        for line in lines { print(line) }
        func columns(_ line: String) -> [Int] {
            // Where each word after a space starts, but only for the label words, "|" and "[".
            let characters = Array(line.prefix { $0 != "[" })
            return characters.indices.filter { i in
                i > 0 && characters[i - 1] == " " && characters[i] != " "
                    && (characters[i].isLetter || characters[i] == "|" || characters[i] == "[" || characters[i] == "r")
            }
        }
        let first = lines.filter { $0.contains(" d ") }, second = lines.filter { $0.contains("a-long-name") }
        XCTAssertEqual(first.count, 4)
        XCTAssertEqual(Set(first.map(columns)).count, 1, "task d's columns move:\n\(first.joined(separator: "\n"))")
        XCTAssertEqual(Set(second.map(columns)).count, 1, "columns move:\n\(second.joined(separator: "\n"))")
        XCTAssertEqual(Set(lines.map { Array($0).firstIndex(of: "|")! }).count, 1, "the | column moves")
        XCTAssertEqual(Set(first.map { Array($0).firstIndex(of: "[")! }).count, 1, "the time column moves")
        XCTAssertEqual(Set(lines.map { $0.range(of: "train")!.lowerBound.utf16Offset(in: $0) }).count, 1)
        XCTAssertEqual(EpochTable.number(0.12344), "0.1234")
        XCTAssertEqual(EpochTable.number(10.12344), "10.123")
        XCTAssertEqual(EpochTable.number(-0.15117), "-0.151")
        XCTAssertEqual(EpochTable.number(-1234.6), " -1235")
        XCTAssertEqual(EpochTable.number(123456.7), "123457")
        XCTAssertEqual(EpochTable.number(-1.5e7), "-2e+07")
        XCTAssertEqual(EpochTable.number(.nan), "   nan")
        XCTAssertEqual(EpochTable.number(-.infinity), "  -inf")
    }
}
