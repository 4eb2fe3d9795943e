import CanopyTestSupport
import CanopyTrain
import Foundation
import XCTest

/// `canopy train` under `mpirun`: two processes train what one process trains (the same model file, so the same
/// global batches), only rank 0 prints and writes the run folder, a run resumes with another number of processes,
/// and the same holds with the two processes on two "hosts" over TCP.
final class DataParallelTrainingTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-dp-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // About 1440 training rows in global batches of 64 (the last one partial), three tasks, dropout (each
        // process draws its rows' masks as one process does).
        try """
            name: parallel
            data: {source: builtin:digits, validation: 0.2, seed: 3}
            input: {shape: [64], scale: 0.0625}
            shared: [{dense: 32}, tanh, {dropout: 0.1}]
            tasks:
              digit: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy, macro_f1]}
              parity: {head: [{dense: 2}], loss: cross_entropy, metrics: [accuracy, auc]}
              value: {head: [{dense: 1}], loss: mse, metrics: [r2], weight: 0.2}
            train: {optimizer: {sgd: {lr: 0.05, momentum: 0.9}}, batch_size: 64, epochs: 2, seed: 11}
            """.write(to: model, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private var model: URL { folder.appendingPathComponent("parallel.yaml") }
    private func run(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func testTwoProcessesTrainWhatOneProcessTrains() throws {
        guard let mpi = MPIRun.find() else { return }
        let one = try train(mpi, ranks: nil, ["--out", run("one")])
        let two = try train(mpi, ranks: 2, ["--out", run("two")])
        XCTAssertTrue(two.output.contains("data-parallel: 2 processes, 32 of every 64 rows each"), two.output)
        XCTAssertTrue(two.output.contains("data-parallel: each process summed"), two.output)
        // Only rank 0 prints: each epoch's table once.
        XCTAssertEqual(two.output.components(separatedBy: "epoch  2").count - 1,
                       one.output.components(separatedBy: "epoch  2").count - 1, two.output)
        // Only rank 0 writes: the two run folders and nothing else.
        let made = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasSuffix(".yaml") }
        XCTAssertEqual(Set(made), ["one", "two"])
        try assertSameRun(run("two"), as: run("one"))
    }

    func testARunResumesWithAnotherNumberOfProcesses() throws {
        guard let mpi = MPIRun.find() else { return }
        _ = try train(mpi, ranks: nil, ["--out", run("straight")])
        // One epoch in two processes, the second in one; and the other way round.
        _ = try train(mpi, ranks: 2, ["--out", run("two-then-one"), "--epochs", "1"])
        let resumed = try train(mpi, ranks: nil, ["--resume", run("two-then-one")])
        XCTAssertTrue(resumed.output.contains("resuming"), resumed.output)
        try assertSameRun(run("two-then-one"), as: run("straight"))
        _ = try train(mpi, ranks: nil, ["--out", run("one-then-two"), "--epochs", "1"])
        _ = try train(mpi, ranks: 2, ["--resume", run("one-then-two")])
        try assertSameRun(run("one-then-two"), as: run("straight"))
    }

    func testTwoHostsOverTCPTrainWhatOneProcessTrains() throws {
        guard let mpi = MPIRun.find() else { return }
        try XCTSkipUnless(MPIRun.isRoot, "making network namespaces needs root (CI runs as root)")
        _ = try train(mpi, ranks: nil, ["--out", run("one")])
        let network = try TwoHostNetwork()
        defer { network.remove() }
        let sentBefore = try network.bytesSent()
        let (finished, agentCalls) = try network.run(mpi, [mpi.binary("canopy"), "train", model.path, "--backend", "cpu",
                                                           "--out", run("hosts")], in: folder)
        XCTAssertFalse(finished.timedOut, "mpirun over TCP hung:\n\(finished.output)")
        XCTAssertEqual(finished.status, 0, finished.output)
        XCTAssertTrue(agentCalls.contains(network.addresses[1]) && agentCalls.contains("orted"), agentCalls)
        // 2 epochs of 23 steps, each summing 12.6 KiB of gradients, and the metrics' and validation's gathers.
        XCTAssertGreaterThan(try network.bytesSent() - sentBefore, 500_000, "bytes sent over the veth pair")
        try assertSameRun(run("hosts"), as: run("one"))
    }

    // MARK: Helpers

    /// `canopy train MODEL --backend cpu ARGUMENTS` alone (`ranks` nil) or under `mpirun -np ranks`.
    private func train(_ mpi: MPIRun, ranks: Int?, _ arguments: [String],
                       file: StaticString = #filePath, line: UInt = #line) throws -> BoundedRun {
        let command = [mpi.binary("canopy"), "train", model.path, "--backend", "cpu"] + arguments
        let finished = ranks.map { ranks in
            try? runWithTimeout(mpi.mpirun, MPIRun.options(ranks: ranks) + command, timeout: 300)
        } ?? (try? runWithTimeout(command[0], Array(command.dropFirst()), timeout: 300))
        let result = try XCTUnwrap(finished, file: file, line: line)
        XCTAssertFalse(result.timedOut, "hung:\n\(result.output)", file: file, line: line)
        XCTAssertEqual(result.status, 0, result.output, file: file, line: line)
        return result
    }

    /// The two runs' parameters agree within float rounding, and so do the losses and metrics they logged.
    private func assertSameRun(_ path: String, as reference: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let parameters = try SafeTensorsFile.read(from: URL(fileURLWithPath: path + "/parameters.safetensors"))
        let expected = try SafeTensorsFile.read(from: URL(fileURLWithPath: reference + "/parameters.safetensors"))
        XCTAssertEqual(parameters.tensors.map(\.name), expected.tensors.map(\.name), file: file, line: line)
        var worst = 0.0
        for (a, b) in zip(parameters.tensors, expected.tensors) {
            for (x, y) in zip(a.values, b.values) { worst = max(worst, Double(abs(x - y)) / max(1, Double(abs(y)))) }
        }
        print("\(URL(fileURLWithPath: path).lastPathComponent): parameters within \(worst) of one process's")
        XCTAssertLessThan(worst, 1e-4, "parameters differ from one process's", file: file, line: line)
        let lines = try metrics(path), expectedLines = try metrics(reference)
        XCTAssertEqual(lines.count, expectedLines.count, file: file, line: line)
        for (a, b) in zip(lines, expectedLines) {
            XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), file: file, line: line)
            for (key, value) in b {
                guard let number = value as? Double, key != "epoch_seconds" else { continue }
                let other = try XCTUnwrap(a[key] as? Double, key, file: file, line: line)
                XCTAssertEqual(other, number, accuracy: 1e-3 * max(1, abs(number)), key, file: file, line: line)
            }
        }
    }

    private func metrics(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }
}
