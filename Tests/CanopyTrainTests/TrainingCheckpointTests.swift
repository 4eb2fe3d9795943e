import CanopyCore
import CanopyCPU
import XCTest
@testable import CanopyTrain

/// Training checkpoints: the file layout, the round trip, plain parameters files, foreign files, and strict and
/// transfer loading into a parameter store.
final class TrainingCheckpointTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("canopy-ckpt-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func sample() -> TrainingCheckpoint {
        TrainingCheckpoint(
            parameters: [(name: "shared.0.weight", shape: [2, 3], values: [1, -2, 3.5, 0, .pi, -1e-30]),
                         (name: "shared.0.bias", shape: [2], values: [0.25, -0.5]),
                         (name: "tasks.digit.head.0.weight", shape: [1, 2], values: [7, 8])],
            optimizerState: [(name: "shared.0.weight.m", shape: [6], values: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
                             (name: "shared.0.weight.v", shape: [6], values: [1e-8, 2, 3, 4, 5, 6])],
            extraState: [(name: "weighting.log_variance", shape: [3], values: [-0.5, 0, 0.5])],
            metadata: ["model": "digits-mlp", "epoch": "3", "step": "120", "model_file": "name: x\n"])
    }

    func testRoundTripKeepsEveryTensorBitForBitAndTheMetadata() throws {
        let url = directory.appendingPathComponent("checkpoint.safetensors")
        let original = sample()
        try original.write(to: url)
        let back = try TrainingCheckpoint.read(from: url)
        for (kind, a, b) in [("parameters", original.parameters, back.parameters),
                             ("optimizer", original.optimizerState, back.optimizerState),
                             ("extra", original.extraState, back.extraState)] {
            XCTAssertEqual(a.map(\.name), b.map(\.name), kind)
            XCTAssertEqual(a.map(\.shape), b.map(\.shape), kind)
            XCTAssertEqual(a.map { $0.values.map(\.bitPattern) }, b.map { $0.values.map(\.bitPattern) }, kind)
        }
        var expected = original.metadata
        expected["format"] = "canopy-checkpoint"
        expected["version"] = "1"
        XCTAssertEqual(back.metadata, expected)
        XCTAssertEqual(back.file, url.relativePath)
    }

    func testTheFileKeepsPlainParameterNamesAndPrefixesTheState() throws {
        let url = directory.appendingPathComponent("checkpoint.safetensors")
        try sample().write(to: url)
        let raw = try SafeTensorsFile.read(from: url)
        XCTAssertEqual(raw.tensors.map(\.name), [
            "shared.0.weight", "shared.0.bias", "tasks.digit.head.0.weight",
            "optimizer.shared.0.weight.m", "optimizer.shared.0.weight.v", "state.weighting.log_variance",
        ])
        XCTAssertEqual(raw.metadata["format"], "canopy-checkpoint")
    }

    func testAPlainParametersFileReadsAsACheckpointWithoutState() throws {
        let url = directory.appendingPathComponent("parameters.safetensors")
        try SafeTensorsFile(tensors: sample().parameters,
                            metadata: ["format": "canopy-parameters", "model": "digits-mlp"]).write(to: url)
        let checkpoint = try TrainingCheckpoint.read(from: url)
        XCTAssertEqual(checkpoint.parameters.map(\.name), sample().parameters.map(\.name))
        XCTAssertEqual(checkpoint.parameters[1].values, [0.25, -0.5])
        XCTAssertTrue(checkpoint.optimizerState.isEmpty)
        XCTAssertTrue(checkpoint.extraState.isEmpty)
        XCTAssertEqual(checkpoint.metadata["model"], "digits-mlp")
    }

    func testFilesThatAreNotCanopysAreRefusedWithAReason() throws {
        let tensors = [(name: "w", shape: [1], values: [Float(1)])]
        let cases: [(metadata: [String: String], expected: String)] = [
            ([:], "no 'format'"),
            (["format": "pytorch"], "unknown format 'pytorch'"),
            (["format": "canopy-checkpoint", "version": "2"], "version 2 is not supported"),
            (["format": "canopy-checkpoint"], "version (none)"),
        ]
        for (metadata, expected) in cases {
            let url = directory.appendingPathComponent("foreign.safetensors")
            try SafeTensorsFile(tensors: tensors, metadata: metadata).write(to: url)
            XCTAssertThrowsError(try TrainingCheckpoint.read(from: url)) { error in
                let text = String(describing: error)
                XCTAssertTrue(error is CheckpointError && text.contains(expected) && text.contains("foreign.safetensors"),
                              "'\(expected)' not in: \(text)")
            }
        }
        let garbage = directory.appendingPathComponent("notes.txt")
        try Data("not a safetensors file at all".utf8).write(to: garbage)
        XCTAssertThrowsError(try TrainingCheckpoint.read(from: garbage)) { XCTAssertTrue($0 is CheckpointError, "\($0)") }
        XCTAssertThrowsError(try TrainingCheckpoint.read(from: directory.appendingPathComponent("absent"))) {
            XCTAssertTrue(String(describing: $0).contains("no such file"), "\($0)")
        }
    }

    func testAParameterNameWithAReservedPrefixCannotBeWritten() throws {
        let url = directory.appendingPathComponent("bad.safetensors")
        let checkpoint = TrainingCheckpoint(parameters: [(name: "state.x", shape: [1], values: [1])])
        XCTAssertThrowsError(try checkpoint.write(to: url)) { error in
            XCTAssertTrue(String(describing: error).contains("reserved prefix"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    // MARK: Loading into a parameter store

    /// A store with parameters a [2, 3], b [3] and d [2], all zero.
    private func store() throws -> ParameterStore {
        let graph = Graph()
        _ = graph.parameter("a", shape: [2, 3], initializer: .zeros)
        _ = graph.parameter("b", shape: [3], initializer: .zeros)
        _ = graph.parameter("d", shape: [2], initializer: .zeros)
        return try ParameterStore(graph: graph, backend: CPUBackend())
    }

    private let mismatched = TrainingCheckpoint(
        parameters: [(name: "a", shape: [2, 3], values: [1, 2, 3, 4, 5, 6]),
                     (name: "b", shape: [4], values: [1, 1, 1, 1]),
                     (name: "c", shape: [1], values: [9])],
        file: "run/parameters.safetensors")

    func testStrictLoadingListsEveryMismatchAndLoadsNothing() throws {
        let parameters = try store()
        XCTAssertThrowsError(try loadParameters(from: mismatched, into: parameters, strict: true)) { error in
            XCTAssertEqual(String(describing: error),
                           "run/parameters.safetensors: the parameters do not fit the model: missing: d; "
                           + "unexpected: c; shape differs: b [3] in the model vs [4] in the checkpoint")
        }
        XCTAssertEqual(try parameters.snapshot()["a"], [0, 0, 0, 0, 0, 0], "nothing is loaded on a strict failure")
    }

    func testTransferLoadingTakesWhatMatchesAndSaysWhat() throws {
        let parameters = try store()
        let loaded = try loadParameters(from: mismatched, into: parameters, strict: false)
        XCTAssertEqual(loaded, ["a"])
        let snapshot = try parameters.snapshot()
        XCTAssertEqual(snapshot["a"], [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(snapshot["b"], [0, 0, 0])
        XCTAssertEqual(snapshot["d"], [0, 0])
    }

    func testStrictLoadingOfAFittingCheckpointRestoresEveryValue() throws {
        let source = try store()
        try source.load(["a": [1, 2, 3, 4, 5, 6], "b": [-1, -2, -3], "d": [0.5, 0.25]])
        let checkpoint = try TrainingCheckpoint(parameters: source, metadata: ["model": "m"])
        XCTAssertEqual(checkpoint.parameters.map(\.name), ["a", "b", "d"], "graph order")
        let url = directory.appendingPathComponent("p.safetensors")
        try checkpoint.write(to: url)
        let target = try store()
        let loaded = try loadParameters(from: try TrainingCheckpoint.read(from: url), into: target, strict: true)
        XCTAssertEqual(loaded, ["a", "b", "d"])
        XCTAssertEqual(try target.snapshot(), try source.snapshot())
    }
}
