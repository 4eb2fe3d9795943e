import CanopyCore
import CanopyCPU
import CanopyModel
import XCTest
@testable import CanopyTrain

/// Labels from outside: a class label that is huge, negative, fractional or not a number is an error naming the
/// file, the line, the row and the task, never a trap; a task without any training label is refused; a task
/// without validation labels scores NaN, on purpose and documented.
final class LabelCheckTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("canopy-labels-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func csv(_ text: String, name: String = "train.csv") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Two inputs `a`, `b`; a 3-class task `digit` on column `d`, a binary task `big` on `g`, a regression task
    /// `size` on `s`.
    private func spec(_ url: URL) -> ModelSpec {
        func dense(_ units: Int, _ task: String) -> LayerSpec {
            LayerSpec(kind: .dense(units: units), keyPath: "tasks.\(task).head[0]")
        }
        return ModelSpec(
            name: "labels", data: DataSpec(source: .csv(url), validation: 0.25, seed: 1),
            input: InputSpec(shape: [2], columns: ["a", "b"]), shared: [],
            tasks: [TaskSpec(name: "digit", head: [dense(3, "digit")], loss: .crossEntropy, label: "d"),
                    TaskSpec(name: "big", head: [dense(1, "big")], loss: .binaryCrossEntropy, label: "g"),
                    TaskSpec(name: "size", head: [dense(1, "size")], loss: .mse, label: "s")],
            train: TrainSpec(optimizer: .adam(), batchSize: 4, epochs: 1))
    }

    /// Four rows; row 3 (line 5, after a quoted line break) has `digit`, `big` and `size` set as given.
    private func table(d: String = "2", g: String = "1", s: String = "0.5") -> String {
        "a,b,d,g,s,note\n1,2,0,0,1,x\n3,4,1,1,2,\"two\nlines\"\n5,6,\(d),\(g),\(s),y\n7,8,0,0,3,z\n"
    }

    /// The error of loading for training and of loading for evaluation, which must agree.
    private func errors(_ text: String) throws -> (train: String, evaluate: String) {
        let url = try csv(text)
        var train = "no error", evaluate = "no error"
        do { _ = try ModelData.load(for: spec(url)) } catch { train = "\(error)" }
        do {
            let data = try PredictionData.load(.csv(url), for: spec(url))
            try PredictionData.checkLabels(data, from: .csv(url), against: spec(url))
        } catch {
            evaluate = "\(error)"
        }
        return (train, evaluate)
    }

    func testClassLabelsThatAreNotClassIndicesNameFileLineRowAndTask() throws {
        let cases: [(text: String, shown: String)] = [
            ("1e30", "1e+30"), ("9.3e18", "9.3e+18"), ("9223372036854775808", "9.223372e+18"), ("-1", "-1"),
            ("2.5", "2.5"), ("3", "3"), ("1e-30", "1e-30"),
        ]
        for item in cases {
            let (train, evaluate) = try errors(table(d: item.text))
            let path = directory.appendingPathComponent("train.csv").relativePath
            XCTAssertEqual(train, "\(path):5: column 'd': row 3, task 'digit' (tasks.digit): label \(item.shown) is "
                               + "not a class index in 0..<3 (the head has 3 outputs)", item.text)
            XCTAssertEqual(evaluate, train, item.text)
        }
    }

    func testBinaryTargetsOutsideTheUnitIntervalAreErrorsToo() throws {
        let (train, evaluate) = try errors(table(g: "1e30"))
        XCTAssertTrue(train.hasSuffix(":5: column 'g': row 3, task 'big' (tasks.big): binary cross-entropy targets "
                                          + "must be in [0, 1], got 1e+30"), train)
        XCTAssertEqual(evaluate, train)
    }

    func testNotANumberTextIsACSVError() throws {
        for text in ["nan", "NaN", "-nan", "inf"] {
            let (train, evaluate) = try errors(table(d: text))
            XCTAssertTrue(train.hasSuffix(":5: column 'd': '\(text)' is not a finite number"), train)
            XCTAssertEqual(evaluate, train)
        }
    }

    func testLabelsMadeInCodeAreCheckedWithoutTrapping() throws {
        let url = try csv(table())
        var data = try ModelData.loadDataset(for: spec(url))
        for bad: Float in [.nan, .infinity, -.infinity, 1e30, -1e30, Float(Int.max), -0.5] {
            data.labels["d"]!.values[3] = bad
            XCTAssertThrowsError(try ModelData.check(data, against: spec(url))) { error in
                XCTAssertTrue("\(error)".contains("row 4, task 'digit'"), "\(error)")
            }
        }
    }

    func testAccumulatorsAndClassWeightsNeverTrapOnOutsideLabels() throws {
        var accumulator = try ClassificationAccumulator(classCount: 3)
        for bad: Float in [1e30, 9.3e18, -1, 2.5, .nan, .infinity] {
            XCTAssertThrowsError(try accumulator.add(scores: [1, 0, 0], labels: [bad]))
        }
        let column = LabelColumn(values: [0, 1e30, 9.3e18, -1, 2.5, .nan, 2])
        XCTAssertEqual(balancedClassWeights(column, classes: 3), [Float(2.0 / 3), 0, Float(2.0 / 3)],
                       "only 0 and 2 count: n = 2")
        XCTAssertEqual(classIndex(of: 2, classCount: 3), 2)
        for bad: Float in [3, 1e30, 9.3e18, -1, -0.5, 2.5, .nan, .infinity, -.infinity] {
            XCTAssertNil(classIndex(of: bad, classCount: 3), "\(bad)")
        }
        XCTAssertEqual(classIndex(of: -0.0, classCount: 3), 0)
        XCTAssertNil(classIndex(of: Float(Int.max), classCount: Int.max))
    }

    /// A regression target far beyond any Int is a valid target and must score, not trap.
    func testHugeRegressionTargetsScore() throws {
        let url = try csv(table(s: "1e30"))
        let data = try ModelData.loadDataset(for: spec(url))
        try ModelData.check(data, against: spec(url))
        let model = try ModelGraph.build(spec(url), batchSize: 4, training: false)
        let parameters = try ParameterStore(graph: model.graph, backend: CPUBackend())
        let scores = try Evaluator(model: model, parameters: parameters).evaluate(data)
        let size = try XCTUnwrap(scores.first { $0.task == "size" })
        XCTAssertEqual(size.labelledRows, 4)
        XCTAssertGreaterThan(size.metric("mse") ?? 0, 1e59)
    }

    func testATaskWithoutAnyTrainingLabelIsRefused() throws {
        let empty = try csv("a,b,d,g,s\n1,2,,0,1\n3,4,NA,1,2\n5,6, ,1,3\n7,8,,0,4\n")
        var withMarkers = spec(empty)
        withMarkers.data.missing = ["NA"]
        XCTAssertThrowsError(try ModelData.load(for: withMarkers)) { error in
            XCTAssertEqual("\(error)", "\(empty.relativePath): column 'd': task 'digit': no training row has a label in "
                               + "column 'd' (all 3 are empty or missing markers)")
        }
        // One labelled row: an error exactly when the split puts it in validation.
        var outcomes: [String] = []
        for labelled in 0..<4 {
            let cells = (0..<4).map { $0 == labelled ? "2" : "" }
            let url = try csv("a,b,d,g,s\n" + cells.enumerated().map { "\($0.offset),1,\($0.element),0,1\n" }.joined(),
                              name: "one\(labelled).csv")
            do {
                let data = try ModelData.load(for: spec(url))
                XCTAssertEqual(data.train.labels["d"]?.presentCount, 1)
                outcomes.append("trains")
            } catch {
                XCTAssertTrue("\(error)".hasSuffix("task 'digit': no training row has a label in column 'd' (all 3 are "
                                                    + "empty or missing markers; the 1 labelled row fell in the "
                                                    + "validation split)"), "\(error)")
                outcomes.append("refused")
            }
        }
        XCTAssertEqual(outcomes.filter { $0 == "refused" }.count, 1, "\(outcomes)")
    }

    /// A validation split without any label for a task is allowed; its scores are NaN on purpose, with 0 rows.
    func testATaskWithoutValidationLabelsScoresNaN() throws {
        let url = try csv(table())
        var data = try ModelData.loadDataset(for: spec(url))
        data.labels["d"] = LabelColumn(values: [0, 0, 0, 0], present: [false, false, false, false])
        let model = try ModelGraph.build(spec(url), batchSize: 4, training: false)
        let parameters = try ParameterStore(graph: model.graph, backend: CPUBackend())
        let scores = try Evaluator(model: model, parameters: parameters).evaluate(data)
        let digit = try XCTUnwrap(scores.first { $0.task == "digit" })
        XCTAssertEqual(digit.labelledRows, 0)
        XCTAssertTrue(digit.loss.isNaN)
        XCTAssertEqual(digit.metrics.map(\.name), ["accuracy"])
        XCTAssertTrue(digit.metrics.allSatisfy { $0.value.isNaN })
        let big = try XCTUnwrap(scores.first { $0.task == "big" })
        XCTAssertEqual(big.labelledRows, 4)
        XCTAssertTrue(big.loss.isFinite)
    }
}
