import Canopy
@testable import CanopyONNX
import CanopyTestSupport
import Foundation
import XCTest

/// `canopy export --format onnx`: every example model, trained briefly on the CPU, exports to a file that
/// `onnx.checker` accepts and that onnxruntime runs to the outputs Canopy predicts (Scripts/check_onnx.py, with
/// the Python of `$CANOPY_PYTHON`, which Scripts/test prepares; the comparison tests skip without it).
final class ONNXExportTests: ScratchTestCase {
    /// The rows of the validation split each example is compared on.
    private static let comparedRows = 150

    /// Every file in Examples/ (so a new example is covered without touching this test).
    func testEveryExampleExportsAndMatchesPredict() throws {
        let python = try onnxPython()
        let files = try FileManager.default.contentsOfDirectory(at: TestModels.examples, includingPropertiesForKeys: nil)
            .filter { ["yaml", "yml", "json"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        XCTAssertGreaterThanOrEqual(files.count, 10, "the examples folder should hold the example models")
        var manifests: [URL] = []
        for file in files {
            var spec = try ModelFile.load(contentsOf: file)
            if spec.data.option("rows") != nil { spec.data.options["rows"] = 400 }
            let started = Date()
            manifests.append(try exportAndRecord(spec, name: file.deletingPathExtension().lastPathComponent,
                                                 batches: [Self.comparedRows, 7]))
            print("\(file.lastPathComponent): trained one epoch and exported in "
                + String(format: "%.1f s", Date().timeIntervalSince(started)))
        }
        try runChecker(python, manifests)
    }

    /// The batch dimension is dynamic: batches of 1 and 7 rows give Canopy's outputs (every task kind: classes,
    /// a regression value).
    func testBatchesOfOneAndSevenRows() throws {
        let python = try onnxPython()
        let manifest = try exportAndRecord(TestModels.digitsMLP(epochs: 1), name: "digits-mlp", batches: [1, 7])
        try runChecker(python, [manifest])
    }

    /// Layers and settings the examples do not use, in two models: images (convolutions with stride, padding and
    /// groups, batch norm on planes and on features, pooling, every activation, residual, layer norm, softmax,
    /// standardised inputs, every loss kind) and token ids (embedding with padding and positions, causal
    /// attention, conv1d).
    func testEveryLayerKind() throws {
        let python = try onnxPython()
        let images = """
            name: onnx-layers-images
            data: {source: builtin:digits, validation: 0.2, seed: 7}
            input: {shape: [1, 8, 8], normalize: standard}
            shared:
              - {conv2d: {filters: 4, kernel: 3, padding: 1}}
              - batchnorm
              - leaky_relu
              - {conv2d: {filters: 6, kernel: [3, 1], stride: [2, 1], padding: [1, 0], groups: 2}}
              - elu
              - {residual: [{conv2d: {filters: 6, kernel: 1}}, gelu]}
              - {maxpool: {kernel: 2, stride: 1}}
              - {avgpool: 2}
              - sigmoid
              - {reshape: [6, 3]}
              - flatten
              - {dense: 16}
              - batchnorm
              - silu
              - {dropout: 0.2}
            tasks:
              digit:  {head: [{dense: 16}, tanh, layernorm, {dense: 10}], loss: cross_entropy, metrics: [accuracy]}
              parity: {head: [{gradient_reversal: 0.5}, {dense: 1}], loss: binary_cross_entropy, metrics: [accuracy]}
              ink:    {head: [{dense: 8}, softmax, {dense: 1}], loss: huber, metrics: [mae]}
              ink2:   {head: [{dense: 1}], loss: l1, label: ink, metrics: [mae]}
            train: {optimizer: {adam: {lr: 0.01}}, batch_size: 32, epochs: 1, seed: 2}
            """
        let planes = """
            name: onnx-layers-planes
            data: {source: builtin:digits, validation: 0.2, seed: 7}
            input: {shape: [1, 8, 8], scale: 0.0625}
            shared: [{conv2d: {filters: 4, kernel: 3}}, relu, global_avgpool]
            tasks:
              digit: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy]}
            train: {optimizer: {adam: {lr: 0.01}}, batch_size: 32, epochs: 1, seed: 2}
            """
        let sequences = try String(contentsOf: TestModels.examples.appendingPathComponent("attention-sequences.yaml"),
                                   encoding: .utf8)
            .replacingOccurrences(of: "{multihead_attention: {heads: 2, dim: 16}}",
                                  with: "{multihead_attention: {heads: 2, dim: 16, causal: true}}\n"
                                      + "  - {conv1d: {filters: 8, kernel: 3, padding: 1}}")
        XCTAssertTrue(sequences.contains("causal: true"), "the attention example changed; update this test")
        var manifests: [URL] = []
        for (name, text) in [("layers-images", images), ("layers-planes", planes), ("layers-sequences", sequences)] {
            let spec = try ModelFile.parse(text, fileName: "\(name).yaml", baseDirectory: TestModels.examples)
            manifests.append(try exportAndRecord(spec, name: name, batches: [Self.comparedRows, 1]))
        }
        try runChecker(python, manifests)
    }

    /// Without Python: the file decodes with the generated ONNX types and declares opset 17, IR version 8, the
    /// input (int64 ids for a model that only embeds them) and every task's outputs with the dynamic batch, and
    /// holds every parameter as an initializer named and shaped as in the checkpoint.
    func testFileStructure() throws {
        let spec = try ModelFile.load(contentsOf: TestModels.examples.appendingPathComponent("attention-sequences.yaml"))
        let checkpoint = try Trainer(spec: spec, backend: CPUBackend()).checkpoint()
        let data = try ONNXExport.model(spec: spec, checkpoint: checkpoint, backend: CPUBackend())
        let model = try Onnx_ModelProto(serializedBytes: data)
        XCTAssertEqual(model.irVersion, 8)
        XCTAssertEqual(model.opsetImport.map(\.version), [17])
        XCTAssertEqual(model.graph.input.map(\.name), ["input"])
        let input = model.graph.input[0].type.tensorType
        XCTAssertEqual(input.elemType, Int32(Onnx_TensorProto.DataType.int64.rawValue))
        XCTAssertEqual(input.shape.dim.map(\.dimParam), ["batch", ""])
        XCTAssertEqual(input.shape.dim.map(\.dimValue), [0, 12])
        XCTAssertEqual(model.graph.output.map(\.name),
                       ["order_logits", "order_probabilities", "many_logits", "many_probabilities"])
        for output in model.graph.output {
            XCTAssertEqual(output.type.tensorType.shape.dim.map(\.dimParam), ["batch", ""], output.name)
            XCTAssertEqual(output.type.tensorType.shape.dim.map(\.dimValue), [0, 2], output.name)
        }
        let initializers = Dictionary(model.graph.initializer.map { ($0.name, $0.dims.map(Int.init)) },
                                      uniquingKeysWith: { a, _ in a })
        for parameter in checkpoint.parameters {
            XCTAssertEqual(initializers[parameter.name], parameter.shape, parameter.name)
        }
        XCTAssertFalse(model.graph.node.contains { $0.opType == "Dropout" })
    }

    /// A checkpoint that lacks a parameter, or holds one of another shape, is refused, naming the file.
    func testRefusesABadCheckpointNamingTheFile() throws {
        let spec = TestModels.digitsMLP(epochs: 1)
        let good = try Trainer(spec: spec, backend: CPUBackend()).checkpoint()
        var missing = good
        missing.parameters.removeAll { $0.name == "shared.0.weight" }
        var reshaped = good
        let index = reshaped.parameters.firstIndex { $0.name == "tasks.digit.head.0.bias" }!
        reshaped.parameters[index].shape = [2, 5]
        for (name, checkpoint, words) in [("missing", missing, "shared.0.weight"),
                                          ("reshaped", reshaped, "tasks.digit.head.0.bias")] {
            let url = scratch.appendingPathComponent("\(name).safetensors")
            try checkpoint.write(to: url)
            let read = try TrainingCheckpoint.read(from: url)
            XCTAssertThrowsError(try ONNXExport.model(spec: spec, checkpoint: read, backend: CPUBackend())) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("\(name).safetensors"), "the error should name the file: \(text)")
                XCTAssertTrue(text.contains(words), "the error should name the parameter: \(text)")
            }
        }
        XCTAssertNoThrow(try ONNXExport.model(spec: spec, checkpoint: good, backend: CPUBackend()))
    }

    /// `canopy export` writes the file and names its input and outputs; a bad checkpoint is an `error:` line.
    func testExportCommand() throws {
        let model = scratch.appendingPathComponent("small.yaml")
        try ScratchTestCase.smallModel().write(to: model, atomically: true, encoding: .utf8)
        let spec = try ModelFile.load(contentsOf: model)
        try Trainer(spec: spec, backend: CPUBackend()).checkpoint().write(to: scratch.appendingPathComponent("p.safetensors"))
        let result = try runCanopy(["export", "small.yaml", "--checkpoint", "p.safetensors", "--format", "onnx",
                                    "--out", "small.onnx"], in: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("outputs 'digit_logits', 'digit_probabilities', 'value'"), result.stdout)
        XCTAssertGreaterThan((try Data(contentsOf: scratch.appendingPathComponent("small.onnx"))).count, 1000)
        try Data("not a checkpoint".utf8).write(to: scratch.appendingPathComponent("bad.safetensors"))
        let bad = try runCanopy(["export", "small.yaml", "--checkpoint", "bad.safetensors", "--out", "x.onnx"], in: scratch)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.hasPrefix("error: ") && bad.stderr.contains("bad.safetensors"), bad.stderr)
    }

    // MARK: - Helpers

    /// The Python with onnx and onnxruntime, or a skip saying why there is none.
    private func onnxPython() throws -> String {
        guard let python = ProcessInfo.processInfo.environment["CANOPY_PYTHON"] else {
            throw XCTSkip("CANOPY_PYTHON is not set (Scripts/test sets it to a virtual environment with onnx and "
                + "onnxruntime)")
        }
        let probe = try runProcess(python, ["-c", "import onnx, onnxruntime, numpy"])
        try XCTSkipUnless(probe.status == 0, "\(python) lacks onnx or onnxruntime: \(probe.output)")
        return python
    }

    /// Trains `spec` for one epoch on (at most 64 of) its training rows on the CPU (validating on at most
    /// ``comparedRows``, no test rows), exports it, and writes a manifest with the first validation rows
    /// (raw features) and Canopy's outputs for them: logits from the inference graph, probabilities and values
    /// from ``Predictor`` (what `canopy predict` prints).
    private func exportAndRecord(_ spec: ModelSpec, name: String, batches: [Int]) throws -> URL {
        var data = try ModelData.load(for: spec)   // few rows: the test is about the export, not the learning
        data.train = data.train.subset(rows: Array(0..<min(64, data.train.rowCount)))
        data.validation = data.validation.subset(rows: Array(0..<min(Self.comparedRows, data.validation.rowCount)))
        data.test = nil
        let trainer = try Trainer(spec: spec, backend: CPUBackend(), data: data)
        _ = try trainer.train(epochs: 1)
        let checkpoint = try trainer.checkpoint()
        let onnx = try ONNXExport.model(spec: spec, checkpoint: checkpoint, backend: CPUBackend())
        try onnx.write(to: scratch.appendingPathComponent("\(name).onnx"))

        let validation = trainer.data.validation.rowCount > 0 ? trainer.data.validation : trainer.data.train
        let sample = validation.subset(rows: Array(0..<min(Self.comparedRows, validation.rowCount)))
        let rows = sample.rowCount
        let trained = try TrainedModel(spec: spec, checkpoint: checkpoint, backend: CPUBackend(), batchSize: rows)
        let logits = try inferenceLogits(trained, sample)
        let predictions = try Predictor(model: trained.model, parameters: trained.parameters,
                                        transform: trained.transform).predictAll(sample)

        var outputs: [String: Any] = [:]
        func record(_ key: String, _ values: [Float], width: Int) throws {
            try write(values, to: "\(name).\(key).bin")
            outputs[key] = ["file": "\(name).\(key).bin", "shape": [rows, width]]
        }
        for (t, task) in trained.model.tasks.enumerated() {
            let names = ONNXExport.outputNames(of: task.spec), width = task.width
            switch task.spec.loss {
            case .crossEntropy:
                try record(names[0], logits[t], width: width)
                try record(names[1], predictions.flatMap { row -> [Float] in
                    guard case let .classes(_, p) = row[t] else { return [] }
                    return p
                }, width: width)
            case .binaryCrossEntropy:
                try record(names[0], logits[t], width: width)
                var probabilities = logits[t].map { 1 / (1 + exp(-$0)) }
                for r in 0..<rows {   // the first column as Predictor reports it
                    guard case let .binary(_, p) = predictions[r][t] else { continue }
                    probabilities[r * width] = p
                }
                try record(names[1], probabilities, width: width)
            case .mse, .huber, .l1:
                var values = logits[t]
                for r in 0..<rows {
                    guard case let .value(v) = predictions[r][t] else { continue }
                    XCTAssertEqual(v, values[r * width], "\(name) \(task.spec.name): Predictor and graph differ")
                    values[r * width] = v
                }
                try record(names[0], values, width: width)
            }
        }
        let indices = ONNXExport.takesIndices(trained.model, transform: trained.transform)
        if indices {
            var bytes = Data()
            for value in sample.features { withUnsafeBytes(of: Int64(value).littleEndian) { bytes.append(contentsOf: $0) } }
            try bytes.write(to: scratch.appendingPathComponent("\(name).input.bin"))
        } else {
            try write(sample.features, to: "\(name).input.bin")
        }
        let manifest: [String: Any] = [
            "model": "\(name).onnx",
            "input": ["file": "\(name).input.bin", "dtype": indices ? "int64" : "float32",
                      "shape": [rows] + spec.input.shape],
            "outputs": outputs, "batches": batches, "tolerance": 1e-5,
        ]
        let url = scratch.appendingPathComponent("\(name).json")
        try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]).write(to: url)
        return url
    }

    /// Each task's head output for `sample` (one batch), from the inference graph `canopy predict` runs.
    private func inferenceLogits(_ trained: TrainedModel, _ sample: Dataset) throws -> [[Float]] {
        let model = trained.model
        let executor = try Executor(graph: model.graph, backend: trained.parameters.backend,
                                    parameters: trained.parameters, outputs: model.tasks.map(\.output), mode: .inference)
        try model.uploadConstants(to: executor)
        let f = sample.featureCount
        var features = sample.features
        for i in features.indices { features[i] = (features[i] - trained.transform.offset[i % f]) * trained.transform.factor[i % f] }
        try executor.setInput(ModelGraph.inputName, features)
        for name in executor.inputNames where name != ModelGraph.inputName {
            guard let input = model.graph.input(named: name), model.constants[name] == nil else { continue }
            let fill: Float = name == ModelGraph.realRowsInputName ? 1 : 0
            try executor.setInput(name, [Float](repeating: fill, count: model.graph.count(of: input)))
        }
        try executor.run()
        return try model.tasks.map { try executor.read($0.output) }
    }

    private func write(_ values: [Float], to file: String) throws {
        var bytes = Data(capacity: values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        try bytes.write(to: scratch.appendingPathComponent(file))
    }

    /// Runs Scripts/check_onnx.py on the manifests and fails with each of its `FAIL:` lines.
    private func runChecker(_ python: String, _ manifests: [URL], file: StaticString = #filePath, line: UInt = #line) throws {
        let script = TestModels.examples.deletingLastPathComponent().appendingPathComponent("Scripts/check_onnx.py")
        let result = try runProcess(python, [script.path] + manifests.map(\.path))
        print(result.output)
        for failure in result.output.split(separator: "\n") where failure.hasPrefix("FAIL") {
            XCTFail(String(failure), file: file, line: line)
        }
        XCTAssertEqual(result.status, 0, "check_onnx.py failed", file: file, line: line)
        XCTAssertTrue(result.output.contains("\t"), "check_onnx.py compared nothing", file: file, line: line)
    }

}
