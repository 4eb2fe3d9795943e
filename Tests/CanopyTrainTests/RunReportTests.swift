import XCTest
@testable import CanopyTrain

/// `metrics.jsonl` read back into a run history, and the report page built from it.
final class RunReportTests: XCTestCase {
    /// Two epochs of two tasks as ``MetricsLog`` writes them, the first without `epoch_seconds` (an older log).
    static let log = """
        {"epoch":1,"split":"train","task":"digit","loss":2.0,"accuracy":0.3,"macro_f1":0.25,"learning_rate":0.01,"step":10,"weight":1}
        {"epoch":1,"split":"train","task":"value","loss":9.5,"mse":9.5,"r2":null,"learning_rate":0.01,"step":10,"weight":0.5}
        {"epoch":1,"split":"validation","task":"digit","loss":1.5,"accuracy":0.5,"macro_f1":0.45,"step":10,"weight":1}
        {"epoch":1,"split":"validation","task":"value","loss":6.0,"mse":6.0,"r2":0.2,"step":10,"weight":0.5}
        {"epoch":1,"split":"train","pair":"digit~value","gradient_cosine":0.25}
        {"epoch":2,"split":"step","task":"digit","loss":1.1,"learning_rate":0.01,"step":11,"weight":1}
        {"epoch":2,"split":"train","task":"digit","loss":1.0,"accuracy":0.7,"macro_f1":0.65,"epoch_seconds":0.5,"learning_rate":0.005,"step":20,"weight":1}
        {"epoch":2,"split":"train","task":"value","loss":5.0,"mse":5.0,"r2":0.4,"epoch_seconds":0.5,"learning_rate":0.005,"step":20,"weight":0.6}
        {"epoch":2,"split":"validation","task":"digit","loss":0.8,"accuracy":0.8,"macro_f1":0.75,"step":20,"weight":1}
        {"epoch":2,"split":"validation","task":"value","loss":4.0,"mse":4.0,"r2":0.5,"step":20,"weight":0.6}
        {"epoch":2,"split":"train","pair":"digit~value","gradient_cosine":-0.4}

        """

    func testReadsTasksMetricsInLogOrderAndSeries() throws {
        let history = try RunHistory(name: "run", jsonLines: Data(Self.log.utf8), file: "metrics.jsonl")
        XCTAssertEqual(history.tasks, ["digit", "value"])
        XCTAssertEqual(history.metricNames["digit"], ["accuracy", "macro_f1"])
        XCTAssertEqual(history.metricNames["value"], ["mse", "r2"])
        XCTAssertEqual(history.series(task: "digit", split: "validation", key: "loss").map(\.value), [1.5, 0.8])
        XCTAssertTrue(history.series(task: "value", split: "train", key: "r2")[0].value.isNaN, "null reads as NaN")
        XCTAssertEqual(history.runSeries("epoch_seconds").map(\.epoch), [2], "older lines lack epoch_seconds")
        XCTAssertEqual(history.runSeries("learning_rate").map(\.value), [0.01, 0.005])
        XCTAssertEqual(history.cosines(pair: "digit~value").map(\.value), [0.25, -0.4])
        XCTAssertEqual(history.records.count, 8, "step lines are not kept")
        XCTAssertTrue(history.notes.isEmpty)
    }

    func testDamagedLinesAreSkippedWithTheirFileAndLine() throws {
        let damaged = Self.log.replacingOccurrences(of: "{\"epoch\":2,\"split\":\"validation\",\"task\":\"digit\"",
                                                    with: "{\"epoch\":2,\"split\":\"validation\",garbage")
            + "{\"epoch\":3,\"split\":\"train\",\"task\":\"dig"
        let history = try RunHistory(name: "run", jsonLines: Data(damaged.utf8), file: "runs/x/metrics.jsonl")
        XCTAssertEqual(history.notes.count, 2, "\(history.notes)")
        XCTAssertTrue(history.notes[0].hasPrefix("runs/x/metrics.jsonl:9: not a JSON object"), history.notes[0])
        XCTAssertTrue(history.notes[1].hasPrefix("runs/x/metrics.jsonl:12:"), history.notes[1])
        XCTAssertTrue(history.notes[1].contains("cut short"), history.notes[1])
        XCTAssertEqual(history.lastEpoch, 2)
        let page = RunReport.html([history])
        XCTAssertTrue(page.contains("metrics.jsonl:9: not a JSON object"), "the page lists what it skipped")
    }

    func testALogWithoutValidLinesIsAnErrorNamingTheFile() {
        for text in ["", "not json\n{\"epoch\": \"x\"}\n"] {
            XCTAssertThrowsError(try RunHistory(name: "r", jsonLines: Data(text.utf8), file: "a/metrics.jsonl")) {
                XCTAssertTrue("\($0)".hasPrefix("a/metrics.jsonl: "), "\($0)")
            }
        }
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-no-run-\(UUID())")
        XCTAssertThrowsError(try RunHistory(directory: missing)) { XCTAssertTrue("\($0)".contains("metrics.jsonl")) }
    }

    func testPageHasAChartPerTaskAndMetricAndNoExternalResources() throws {
        let history = try RunHistory(name: "run", jsonLines: Data(Self.log.utf8), file: "metrics.jsonl")
        let page = RunReport.html([history])
        for chart in ["digit-loss", "digit-accuracy", "digit-macro-f1", "value-loss", "value-mse", "value-r2", "weights",
                      "gradient-cosine", "learning-rate", "epoch-seconds", "cosine-matrix"] {
            XCTAssertTrue(page.contains("data-chart=\"\(chart)\""), "missing chart \(chart)")
        }
        XCTAssertEqual(page.components(separatedBy: "<svg class=\"chart").count - 1, 11)
        for external in ["src=", "href=", "@import", "url(", "http://", "https://"] where external != "http://" {
            XCTAssertFalse(page.contains(external), "the page must not load '\(external)'")
        }
        // The only http:// is the SVG namespace.
        XCTAssertEqual(page.components(separatedBy: "http://").count - 1,
                       page.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count - 1)
    }

    func testComparingRunsColoursByRunAndNamesThemInTheLegend() throws {
        let a = try RunHistory(name: "alpha", jsonLines: Data(Self.log.utf8), file: "a")
        let b = try RunHistory(name: "beta<&>", jsonLines: Data(Self.log.utf8), file: "b")
        let page = RunReport.html([a, b])
        XCTAssertTrue(page.contains("alpha validation"))
        XCTAssertTrue(page.contains("beta&lt;&amp;&gt; train"), "names are escaped")
        XCTAssertFalse(page.contains("beta<&>"))
        XCTAssertTrue(page.contains("stroke=\"\(RunReport.palette[1])\""), "the second run has the second colour")
    }

    func testBaselinesGiveADeltaMTable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-report-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.log.write(to: directory.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        try Baselines.json(multiTask: [TaskScore(task: "digit", loss: 0.8, labelledRows: 10, metrics: [("accuracy", 0.8)])],
                           baselines: [Baselines.Result(task: "digit",
                                                        score: TaskScore(task: "digit", loss: 0.9, labelledRows: 10, metrics: [("accuracy", 0.75)]),
                                                        failure: nil)])
            .write(to: directory.appendingPathComponent("baselines.json"), atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("report.html")
        XCTAssertEqual(try RunReport.write(runs: [directory], to: out), [])
        let page = try String(contentsOf: out, encoding: .utf8)
        XCTAssertTrue(page.contains("Δm = +6.67%"), page)
        XCTAssertTrue(page.contains("<td>0.8000</td><td>0.7500</td>"))
    }

    func testTicksAreRoundAndCoverTheRange() {
        XCTAssertEqual(SVGLineChart.ticks(0.13, 0.92), [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1].map { $0 })
        XCTAssertEqual(SVGLineChart.label(0.12345), "0.1235")
        XCTAssertEqual(SVGLineChart.label(2), "2")
        XCTAssertEqual(SVGHeatMap.colour(-1), "#ff4b4b")
        XCTAssertEqual(SVGHeatMap.colour(0), "#ffffff")
    }
}

extension RunReportTests {
    func testEpochTicksStartAtTheFirstEpochAndUseRoundSteps() {
        XCTAssertEqual(SVGLineChart.epochTicks(1, 30), [1, 5, 10, 15, 20, 25, 30])
        XCTAssertEqual(SVGLineChart.epochTicks(1, 2), [1, 2])
        XCTAssertEqual(SVGLineChart.epochTicks(1, 1), [1])
        XCTAssertEqual(SVGLineChart.epochTicks(3, 9), [3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(SVGLineChart.epochTicks(1, 200), [1, 50, 100, 150, 200])
    }
}
