import XCTest
@testable import CanopyModel

/// Good model files: every key lands in the right field, defaults apply, YAML and JSON agree.
final class ModelFileTests: XCTestCase {
    func testBaseFileAndDefaults() throws {
        let spec = try parseModel(baseYAML)
        XCTAssertEqual(spec.name, "t")
        XCTAssertNil(spec.description)
        XCTAssertEqual(spec.data, DataSpec(source: .builtin("digits"), validation: 0.2, seed: 0,
                                           location: SourceLocation(file: "t.yaml", line: 3, column: 11)))
        XCTAssertEqual(spec.input, InputSpec(shape: [1, 8, 8], scale: 1, columns: nil,
                                             location: SourceLocation(file: "t.yaml", line: 5, column: 10)))
        XCTAssertEqual(spec.shared.map(\.kind), [.conv2d(filters: 4, kernel: 3, stride: 1, padding: 1),
                                                 .activation(.relu), .maxPool(kernel: 2, stride: 2), .flatten,
                                                 .dense(units: 16)])
        XCTAssertEqual(spec.shared.map(\.keyPath), (0..<5).map { "shared[\($0)]" })
        XCTAssertEqual(spec.shared[3].location, SourceLocation(file: "t.yaml", line: 10, column: 5))
        XCTAssertEqual(spec.tasks.map(\.name), ["digit", "value"])
        let digit = spec.tasks[0], value = spec.tasks[1]
        XCTAssertEqual(digit.loss, .crossEntropy)
        XCTAssertEqual(digit.metrics, [.accuracy])
        XCTAssertEqual(digit.weight, 1)
        XCTAssertEqual(digit.label, "digit")
        XCTAssertEqual(digit.keyPath, "tasks.digit")
        XCTAssertEqual(digit.location, SourceLocation(file: "t.yaml", line: 13, column: 3))
        XCTAssertEqual(digit.head.map(\.keyPath), ["tasks.digit.head[0]"])
        XCTAssertEqual(value.metrics, [.mse])
        XCTAssertEqual(spec.train, TrainSpec(optimizer: .adam(learningRate: 0.01, beta1: 0.9, beta2: 0.999,
                                                              epsilon: 1e-8, weightDecay: 0),
                                             batchSize: 8, epochs: 2, seed: 0))
        XCTAssertEqual(spec.sourceText, baseYAML)
        XCTAssertEqual(spec.fileName, "t.yaml")
        XCTAssertEqual(spec.location(of: "train.epochs"), SourceLocation(file: "t.yaml", line: 18, column: 11))
        XCTAssertEqual(spec.location(of: "shared[0].conv2d.kernel").line, 7)
        XCTAssertEqual(spec.location(of: "shared[4].dense.units"), SourceLocation(file: "t.yaml", line: 11, column: 12))
    }

    func testEveryKeyAndLayerForm() throws {
        let text = """
        name: full
        description: every key
        data: {source: data/x.csv, validation: 0.25, seed: 18446744073709551615}
        input: {shape: [4], scale: 2, columns: [a, b, "c", d]}
        shared:
          - dense: {units: 8}
          - sigmoid
          - tanh
          - gelu
          - dropout: 0.5
          - flatten
        tasks:
          b: {head: [{dense: 1}], loss: binary_cross_entropy, metrics: [auc, macro_f1], weight: 0.25, label: y}
          r: {head: [{dense: 1}, relu], loss: mse, metrics: r2, weight: 0}
        train:
          optimizer: {sgd: {lr: 1e-2, momentum: 0.9, weight_decay: 5e-4}}
          batch_size: 1
          epochs: 1
          seed: 42
        """
        let spec = try ModelFile.parse(text, fileName: "full.yml", baseDirectory: URL(fileURLWithPath: "/models/m"))
        XCTAssertEqual(spec.description, "every key")
        XCTAssertEqual(spec.data.source, .csv(URL(fileURLWithPath: "/models/m/data/x.csv")))
        XCTAssertEqual(spec.data.validation, 0.25)
        XCTAssertEqual(spec.data.seed, UInt64.max)
        XCTAssertEqual(spec.input.shape, [4])
        XCTAssertEqual(spec.input.scale, 2)
        XCTAssertEqual(spec.input.columns, ["a", "b", "c", "d"])
        XCTAssertEqual(spec.shared.map(\.kind), [.dense(units: 8), .activation(.sigmoid), .activation(.tanh),
                                                 .activation(.gelu), .dropout(0.5), .flatten])
        XCTAssertEqual(spec.tasks[0].metrics, [.auc, .macroF1])
        XCTAssertEqual(spec.tasks[0].weight, 0.25)
        XCTAssertEqual(spec.tasks[0].label, "y")
        XCTAssertEqual(spec.tasks[1].metrics, [.r2])
        XCTAssertEqual(spec.tasks[1].weight, 0)
        XCTAssertEqual(spec.train, TrainSpec(optimizer: .sgd(learningRate: 0.01, momentum: 0.9, weightDecay: 0.0005),
                                             batchSize: 1, epochs: 1, seed: 42))
    }

    func testOptimizerAndPoolingForms() throws {
        let bare = try parseModel(base(replacing: "{adam: {lr: 0.01}}", with: "adam"))
        XCTAssertEqual(bare.train.optimizer, .adam())
        let full = try parseModel(base(replacing: "{adam: {lr: 0.01}}",
                                       with: "{adam: {lr: 1, beta1: 0.5, beta2: 0.75, eps: 0.125, weight_decay: 0.01}}"))
        XCTAssertEqual(full.train.optimizer, .adam(learningRate: 1, beta1: 0.5, beta2: 0.75, epsilon: 0.125,
                                                   weightDecay: 0.01))
        let pool = try parseModel(base(replacing: "maxpool: 2", with: "maxpool: {kernel: 3, stride: 1}"))
        XCTAssertEqual(pool.shared[2].kind, .maxPool(kernel: 3, stride: 1))
        let poolDefault = try parseModel(base(replacing: "maxpool: 2", with: "maxpool: {kernel: 2}"))
        XCTAssertEqual(poolDefault.shared[2].kind, .maxPool(kernel: 2, stride: 2))
        let noShared = try parseModel(base(replacing: "[1, 8, 8]", with: "[64]")
            .replacingOccurrences(of: "shared:\n  - conv2d: {filters: 4, kernel: 3, padding: 1}\n  - relu\n  - maxpool: 2\n  - flatten\n  - dense: 16\n",
                                  with: "shared: []\n"))
        XCTAssertEqual(noShared.shared, [])
    }

    func testTaskOrderIsFileOrder() throws {
        let spec = try parseModel(base(replacing: "  digit: {head: [{dense: 10}], loss: cross_entropy}\n",
                                       with: "  zeta: {head: [{dense: 3}], loss: cross_entropy}\n  alpha: {head: [{dense: 2}], loss: cross_entropy}\n"))
        XCTAssertEqual(spec.tasks.map(\.name), ["zeta", "alpha", "value"])
    }

    func testJSONAndYAMLLoadTheSameSpec() throws {
        let json = """
        {"name": "t", "data": {"source": "builtin:digits"}, "input": {"shape": [1, 8, 8]},
         "shared": [{"conv2d": {"filters": 4, "kernel": 3, "padding": 1}}, "relu", {"maxpool": 2}, "flatten",
                    {"dense": 16}],
         "tasks": {"digit": {"head": [{"dense": 10}], "loss": "cross_entropy"},
                   "value": {"head": [{"dense": 1}], "loss": "mse"}},
         "train": {"optimizer": {"adam": {"lr": 0.01}}, "batch_size": 8, "epochs": 2}}
        """
        let fromJSON = try parseModel(json, fileName: "t.json")
        let fromYAML = try parseModel(baseYAML)
        XCTAssertEqual(fromJSON.shared.map(\.kind), fromYAML.shared.map(\.kind))
        XCTAssertEqual(fromJSON.tasks.map(\.name), fromYAML.tasks.map(\.name))
        XCTAssertEqual(fromJSON.tasks.map(\.head).map { $0.map(\.kind) }, fromYAML.tasks.map(\.head).map { $0.map(\.kind) })
        XCTAssertEqual(fromJSON.train, fromYAML.train)
        XCTAssertEqual(fromJSON.data.source, fromYAML.data.source)
        XCTAssertEqual(fromJSON.input.shape, fromYAML.input.shape)
        XCTAssertEqual(fromJSON.location(of: "tasks.value"), SourceLocation(file: "t.json", line: 5, column: 12))
        // Without an extension, a leading '{' means JSON.
        XCTAssertEqual(ModelFile.Format.detect(fileName: "model", text: " \n{\"a\": 1}"), .json)
        XCTAssertEqual(ModelFile.Format.detect(fileName: "model", text: "name: x"), .yaml)
        XCTAssertEqual(try parseModel(json, fileName: "model").train, fromYAML.train)
    }

    func testLoadFromDiskResolvesDataRelativeToTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-model-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("m.yaml")
        try Data(("\u{FEFF}" + base(replacing: "builtin:digits", with: "../d/x.CSV")).utf8).write(to: url)
        let spec = try ModelFile.load(contentsOf: url)
        XCTAssertEqual(spec.fileURL, url)
        XCTAssertEqual(spec.fileName, "m.yaml")
        XCTAssertEqual(spec.data.source,
                       .csv(directory.deletingLastPathComponent().appendingPathComponent("d/x.CSV").standardizedFileURL))
    }

    func testOverrides() throws {
        let spec = try parseModel(baseYAML)
        XCTAssertEqual(try spec.with(epochs: 7).train.epochs, 7)
        XCTAssertEqual(try spec.with(seed: 9).train.seed, 9)
        XCTAssertEqual(try spec.with(batchSize: 3).train.batchSize, 3)
        XCTAssertThrowsError(try spec.with(epochs: 0)) { error in
            XCTAssertEqual((error as? ModelFileError)?.description,
                           "<command line>: train.epochs: epochs must be in 1...1048576, got 0")
        }
    }

    func testSpecBuiltInCode() throws {
        let spec = ModelSpec(name: "code", data: DataSpec(source: .builtin("digits")), input: InputSpec(shape: [64]),
                             shared: [LayerSpec(kind: .dense(units: 8), keyPath: "shared[0]")],
                             tasks: [TaskSpec(name: "digit", head: [LayerSpec(kind: .dense(units: 10),
                                                                              keyPath: "tasks.digit.head[0]")],
                                              loss: .crossEntropy)],
                             train: TrainSpec(optimizer: .adam(), batchSize: 4, epochs: 1))
        XCTAssertEqual(try summarize(spec).totalParameterCount, 64 * 8 + 8 + 8 * 10 + 10)
        var bad = spec
        bad.train.batchSize = 0
        XCTAssertThrowsError(try summarize(bad)) { error in
            XCTAssertEqual("\(error)", "<code>: train.batch_size: batch_size must be in 1...1048576, got 0")
        }
    }

    func testErrorDescriptionFormat() {
        let error = ModelFileError(location: SourceLocation(file: "digits.yaml", line: 14, column: 7),
                                   keyPath: "tasks.parity.head[0]", message: "unknown layer 'dense2' (did you mean 'dense'?)")
        XCTAssertEqual(error.description,
                       "digits.yaml:14:7: tasks.parity.head[0]: unknown layer 'dense2' (did you mean 'dense'?)")
        XCTAssertEqual(ModelFileError(location: SourceLocation(file: "a.json", line: 3), keyPath: "", message: "m")
            .description, "a.json:3: m")
        XCTAssertEqual(Suggestion.closest("dense2", among: LayerRegistry.keywords), "dense")
        XCTAssertEqual(Suggestion.closest("Conv2D", among: LayerRegistry.keywords), "conv2d")
        XCTAssertNil(Suggestion.closest("transformer", among: LayerRegistry.keywords))
        XCTAssertEqual(Suggestion.levenshtein(Array("kitten".unicodeScalars), Array("sitting".unicodeScalars)), 3)
    }
}
