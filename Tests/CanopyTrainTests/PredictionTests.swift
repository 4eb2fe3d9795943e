import CanopyCore
import CanopyCPU
import CanopyModel
import XCTest
@testable import CanopyTrain

/// Predictions against a forward pass computed here on the host and against the evaluator's scores; the CSV and
/// JSON-lines writers; atomic streamed output; loading data without labels.
final class PredictionTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("canopy-predict-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private static func layer(_ kind: LayerKind, _ path: String) -> LayerSpec { LayerSpec(kind: kind, keyPath: path) }

    /// digits → dense 16, relu, dropout (inactive in inference) → a 10-class, a binary and a regression task.
    private static let spec = ModelSpec(
        name: "predict-test",
        data: DataSpec(source: .builtin("digits"), validation: 0.2, seed: 7),
        input: InputSpec(shape: [64], scale: 1.0 / 16),
        shared: [layer(.dense(units: 16), "shared[0]"), layer(.activation(.relu), "shared[1]"),
                 layer(.dropout(0.5), "shared[2]")],
        tasks: [
            TaskSpec(name: "digit", head: [layer(.dense(units: 10), "tasks.digit.head[0]")], loss: .crossEntropy,
                     metrics: [.accuracy]),
            TaskSpec(name: "large", head: [layer(.dense(units: 1), "tasks.large.head[0]")],
                     loss: .binaryCrossEntropy, metrics: [.accuracy]),
            TaskSpec(name: "value", head: [layer(.dense(units: 1), "tasks.value.head[0]")], loss: .mse,
                     metrics: [.mse]),
        ],
        train: TrainSpec(optimizer: .adam(), batchSize: 50, epochs: 1, seed: 3))

    /// The inference graph with random parameters (biases included) and the first 123 digits: three batches of
    /// 50, the last one padded.
    private func setUp() throws -> (model: ModelGraph, parameters: ParameterStore, data: Dataset) {
        let model = try ModelGraph.build(Self.spec, batchSize: 50, training: false)
        let parameters = try ParameterStore(graph: model.graph, backend: CPUBackend())
        var random = SeededRandom(seed: 11)
        var values: [String: [Float]] = [:]
        for name in parameters.names {
            values[name] = (0..<parameters.count(named: name)).map { _ in (random.nextFloat() - 0.5) * 0.8 }
        }
        try parameters.load(values)
        let data = try BuiltinDataset.load(named: "digits").subset(rows: Array(0..<123))
        return (model, parameters, data)
    }

    /// Per row: digit logits, large logit and value, computed on the host from the parameters.
    private func hostForward(_ parameters: ParameterStore, _ data: Dataset) throws -> [(digit: [Float], large: Float, value: Float)] {
        let p = try parameters.snapshot()
        func dense(_ x: [Float], _ name: String, _ units: Int) -> [Float] {
            let w = p["\(name).weight"]!, b = p["\(name).bias"]!
            return (0..<units).map { o in
                var sum = b[o]
                for i in x.indices { sum += w[o * x.count + i] * x[i] }
                return sum
            }
        }
        return (0..<data.rowCount).map { r in
            let x = data.row(r).map { $0 / 16 }
            let h = dense(x, "shared.0", 16).map { max($0, 0) }
            return (dense(h, "tasks.digit.head.0", 10), dense(h, "tasks.large.head.0", 1)[0],
                    dense(h, "tasks.value.head.0", 1)[0])
        }
    }

    func testPredictionsMatchAHostForwardPassAndProbabilitiesSumToOne() throws {
        let (model, parameters, data) = try setUp()
        let predictor = try Predictor(model: model, parameters: parameters)
        var rows: [Int] = []
        var predictions: [[TaskPrediction]] = []
        try predictor.predict(data) { row, p in rows.append(row); predictions.append(p) }
        XCTAssertEqual(rows, Array(0..<123), "every row once, in file order, padding dropped")

        let reference = try hostForward(parameters, data)
        var largestProbability: Float = 0, largestSum: Float = 0, largestValue: Float = 0
        for (r, row) in predictions.enumerated() {
            guard case let .classes(digit, probabilities) = row[0], case let .binary(large, probability) = row[1],
                  case let .value(value) = row[2] else { return XCTFail("row \(r): wrong kinds \(row)") }
            let logits = reference[r].digit
            let top = logits.max()!
            let exps = logits.map { Foundation.exp($0 - top) }
            let expected = exps.map { $0 / exps.reduce(0, +) }
            XCTAssertEqual(digit, logits.firstIndex(of: top)!, "row \(r)")
            for j in 0..<10 { largestProbability = max(largestProbability, abs(probabilities[j] - expected[j])) }
            largestSum = max(largestSum, abs(probabilities.reduce(0, +) - 1))
            XCTAssertEqual(large, reference[r].large > 0 ? 1 : 0, "row \(r)")
            largestProbability = max(largestProbability, abs(probability - 1 / (1 + Foundation.exp(-reference[r].large))))
            largestValue = max(largestValue, abs(value - reference[r].value))
        }
        print("largest difference: probability \(largestProbability), |Σp − 1| \(largestSum), value \(largestValue)")
        XCTAssertLessThan(largestProbability, 1e-5)
        XCTAssertLessThan(largestSum, 1e-5)
        XCTAssertLessThan(largestValue, 1e-4)
    }

    func testPredictedClassesScoreExactlyAsTheEvaluatorDoes() throws {
        let (model, parameters, data) = try setUp()
        let predictions = try Predictor(model: model, parameters: parameters).predictAll(data)
        let scores = try Evaluator(model: model, parameters: parameters).evaluate(data)
        let digit = data.labels["digit"]!.values, large = data.labels["large"]!.values
        let value = data.labels["value"]!.values
        let digitHits = predictions.indices.filter { predictions[$0][0].predictedClass == Int(digit[$0]) }.count
        let largeHits = predictions.indices.filter { predictions[$0][1].predictedClass == Int(large[$0]) }.count
        var squared = 0.0
        for (r, row) in predictions.enumerated() {
            guard case let .value(v) = row[2] else { return XCTFail("row \(r): \(row[2])") }
            squared += Double(v - value[r]) * Double(v - value[r])
        }
        XCTAssertEqual(Double(digitHits) / 123, scores[0].metric("accuracy")!, "digit: \(digitHits) of 123")
        XCTAssertEqual(Double(largeHits) / 123, scores[1].metric("accuracy")!, "large: \(largeHits) of 123")
        let mse = squared / 123
        print("largest difference: mse \(abs(mse - scores[2].metric("mse")!)) (predictions \(mse))")
        XCTAssertEqual(mse, scores[2].metric("mse")!, accuracy: 1e-5 * max(1, mse))
    }

    func testACheckpointGivesTheSamePredictionsAsTheParametersItWasWrittenFrom() throws {
        let (model, parameters, data) = try setUp()
        let url = directory.appendingPathComponent("parameters.safetensors")
        try TrainingCheckpoint(parameters: parameters, metadata: ["model": Self.spec.name]).write(to: url)
        let trained = try TrainedModel(spec: Self.spec, checkpoint: try TrainingCheckpoint.read(from: url),
                                       backend: CPUBackend())
        let before = try Predictor(model: model, parameters: parameters).predictAll(data)
        let after = try Predictor(model: trained.model, parameters: trained.parameters).predictAll(data)
        XCTAssertEqual(before, after)
    }

    func testAWrongFeatureCountIsAnErrorNamingTheExpectedCount() throws {
        let (model, parameters, _) = try setUp()
        let narrow = try Dataset(rowCount: 1, featureCount: 3, features: [1, 2, 3], featureNames: ["a", "b", "c"],
                                 labels: [:])
        XCTAssertThrowsError(try Predictor(model: model, parameters: parameters).predictAll(narrow)) { error in
            XCTAssertTrue(String(describing: error).contains("3 input columns but the model expects 64"), "\(error)")
        }
    }

    // MARK: Writers

    func testCSVOutputHasOneColumnGroupPerTaskAndReadsBackExactly() throws {
        let (model, parameters, data) = try setUp()
        let predictor = try Predictor(model: model, parameters: parameters)
        let predictions = try predictor.predictAll(data)
        let url = directory.appendingPathComponent("out.csv")
        let writer = try PredictionWriter(format: try PredictionFormat(forFile: url), tasks: predictor.tasks,
                                          sink: try TextSink(file: url))
        for (r, row) in predictions.enumerated() { try writer.write(row: r, row) }
        try writer.finish()

        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "row,digit.class," + (0..<10).map { "digit.p\($0)" }.joined(separator: ",")
                       + ",large.class,large.probability,value.value")
        XCTAssertEqual(lines.count, 1 + 123)
        for (r, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
            XCTAssertEqual(fields.count, 15, line)
            guard fields.count == 15, case let .classes(digit, p) = predictions[r][0],
                  case let .binary(large, q) = predictions[r][1], case let .value(v) = predictions[r][2] else { continue }
            XCTAssertEqual(fields[0], String(r))
            XCTAssertEqual(Int(fields[1]), digit)
            XCTAssertEqual(fields[2...11].map { Float($0)! }, p, "probabilities read back exactly")
            XCTAssertEqual(Int(fields[12]), large)
            XCTAssertEqual(Float(fields[13]), q)
            XCTAssertEqual(Float(fields[14]), v)
        }
    }

    func testJSONLinesOutputParsesWithTheExpectedKeys() throws {
        let (model, parameters, data) = try setUp()
        let predictor = try Predictor(model: model, parameters: parameters)
        let predictions = try predictor.predictAll(data)
        let url = directory.appendingPathComponent("out.jsonl")
        XCTAssertEqual(try PredictionFormat(forFile: url), .jsonLines)
        XCTAssertEqual(try PredictionFormat(forFile: directory.appendingPathComponent("x.JSON")), .jsonLines)
        let writer = try PredictionWriter(format: .jsonLines, tasks: predictor.tasks, sink: try TextSink(file: url))
        for (r, row) in predictions.enumerated() { try writer.write(row: r, row) }
        try writer.finish()

        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 123)
        var largest = 0.0
        for (r, line) in lines.enumerated() {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(Set(object.keys), ["row", "digit", "large", "value"])
            XCTAssertEqual(object["row"] as? Int, r)
            let digit = try XCTUnwrap(object["digit"] as? [String: Any])
            let large = try XCTUnwrap(object["large"] as? [String: Any])
            let value = try XCTUnwrap(object["value"] as? [String: Any])
            guard case let .classes(c, p) = predictions[r][0], case let .binary(b, q) = predictions[r][1],
                  case let .value(v) = predictions[r][2] else { continue }
            XCTAssertEqual(digit["class"] as? Int, c)
            let probabilities = try XCTUnwrap(digit["probabilities"] as? [Double])
            XCTAssertEqual(probabilities.count, 10)
            for (a, e) in zip(probabilities, p) { largest = max(largest, abs(a - Double(e))) }
            XCTAssertEqual(large["class"] as? Int, b)
            largest = max(largest, abs(try XCTUnwrap(large["probability"] as? Double) - Double(q)))
            largest = max(largest, abs(try XCTUnwrap(value["value"] as? Double) - Double(v)))
        }
        print("largest difference between JSON text and predictions: \(largest)")
        XCTAssertLessThan(largest, 1e-6)
    }

    func testAnUnknownOutputExtensionIsAnError() {
        XCTAssertThrowsError(try PredictionFormat(forFile: URL(fileURLWithPath: "/tmp/out.parquet"))) { error in
            XCTAssertTrue(String(describing: error).contains(".csv, .jsonl or .json"), "\(error)")
        }
    }

    func testAFileSinkAppearsOnlyWhenFinishedAndLeavesNothingWhenDiscarded() throws {
        let url = directory.appendingPathComponent("big.csv")
        let sink = try TextSink(file: url)
        let line = String(repeating: "0123456789", count: 10) + "\n"
        for _ in 0..<2_000 { try sink.write(line) }   // 202 KB: several buffer flushes
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path), "not there before finish()")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).count, 1, "one temporary file")
        try sink.finish()
        XCTAssertEqual(try Data(contentsOf: url).count, 2_000 * line.utf8.count)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["big.csv"])

        let abandoned = try TextSink(file: directory.appendingPathComponent("other.csv"))
        try abandoned.write("partial")
        abandoned.discard()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["big.csv"])

        XCTAssertThrowsError(try TextSink(file: directory.appendingPathComponent("no/such/dir/x.csv"))) { error in
            XCTAssertTrue(String(describing: error).contains("cannot create a temporary file"), "\(error)")
        }
    }

    // MARK: Data

    private func csvSpec(columns: [String]? = nil) -> ModelSpec {
        ModelSpec(name: "csv", data: DataSpec(source: .csv(directory.appendingPathComponent("train.csv"))),
                  input: InputSpec(shape: [2], columns: columns), shared: [],
                  tasks: [TaskSpec(name: "t", head: [Self.layer(.dense(units: 2), "tasks.t.head[0]")],
                                   loss: .crossEntropy)],
                  train: TrainSpec(optimizer: .adam(), batchSize: 4, epochs: 1))
    }

    private func csv(_ name: String, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testCSVDataMayLackLabelsAndSkipsLabelColumnsAsInputs() throws {
        let labelled = try PredictionData.load(.csv(try csv("a.csv", "a,t,b\n1,0,2\n3,,4\n5,1,6\n")), for: csvSpec())
        XCTAssertEqual(labelled.featureNames, ["a", "b"])
        XCTAssertEqual(labelled.features, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(labelled.labels["t"]?.present, [true, false, true])

        let unlabelled = try PredictionData.load(.csv(try csv("b.csv", "a,b\n1,2\n3,4\n")), for: csvSpec())
        XCTAssertEqual(unlabelled.rowCount, 2)
        XCTAssertTrue(unlabelled.labels.isEmpty)

        let chosen = try PredictionData.load(.csv(try csv("c.csv", "a,b,c\n1,2,3\n")), for: csvSpec(columns: ["c", "a"]))
        XCTAssertEqual(chosen.features, [3, 1])
    }

    func testCSVDataWithTheWrongColumnCountOrBadLabelsNamesTheFile() throws {
        let wide = try csv("wide.csv", "a,b,c\n1,2,3\n")
        XCTAssertThrowsError(try PredictionData.load(.csv(wide), for: csvSpec())) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("wide.csv") && text.contains("has 3 input columns but the model expects 2"), text)
        }
        let bad = try csv("bad.csv", "a,b,t\n1,2,0\n3,4,5\n")
        let dataset = try PredictionData.load(.csv(bad), for: csvSpec())
        XCTAssertThrowsError(try PredictionData.checkLabels(dataset, from: .csv(bad), against: csvSpec())) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("bad.csv") && text.contains("row 2") && text.contains("0..<2"), text)
        }
        XCTAssertThrowsError(try PredictionData.load(.csv(directory.appendingPathComponent("absent.csv")), for: csvSpec())) {
            XCTAssertTrue(String(describing: $0).contains("absent.csv: no such file"), "\($0)")
        }
    }

    func testSourcesParseFromTheCommandLine() {
        XCTAssertEqual(PredictionData.Source(parsing: "builtin:digits"), .builtin("digits"))
        XCTAssertEqual(PredictionData.Source(parsing: "/data/x.csv"), .csv(URL(fileURLWithPath: "/data/x.csv")))
    }

    func testScoreTableAlignsSplitsAndTasks() {
        let scores = [TaskScore(task: "digit", loss: 0.15, labelledRows: 359, metrics: [("accuracy", 0.96), ("macro_f1", 0.959)]),
                      TaskScore(task: "ink", loss: 0.01, labelledRows: 0, metrics: [("mse", .nan)])]
        let text = ScoreTable.render([("train", [scores[0]]), ("validation", scores)])
        XCTAssertEqual(text, """
            train       digit  loss 0.1500 acc 0.9600 f1 0.9590  (359 labelled rows)
            validation  digit  loss 0.1500 acc 0.9600 f1 0.9590  (359 labelled rows)
            validation  ink    no labelled rows
            """)
    }
}
