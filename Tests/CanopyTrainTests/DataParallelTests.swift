import CanopyCore
import CanopyCPU
import CanopyModel
@testable import CanopyTrain
import XCTest

/// Data-parallel training with its processes as threads (``ThreadProcessGroup``): N processes sharing every
/// global batch must train exactly what one process with the whole batches trains (within float rounding), with
/// every process holding the same parameters bit for bit, for every weighting method, with missing labels,
/// class weights, uneven shares, a partial last batch and dropout (each element's mask drawn from its place in
/// the global batch). The same logic runs under Open MPI (CanopyMPITests).
final class DataParallelTests: XCTestCase {
    /// 203 training rows in global batches of 24: shares of 12/12 (2 processes) or 8/8/8 (3), and a last batch
    /// of 11 rows that leaves the third process nothing; every 5th row lacks its digit label.
    func testTwoAndThreeProcessesTrainWhatOneProcessTrains() throws {
        for processes in [2, 3] {
            let results = try assertSameTraining(weighting: "fixed", processes: processes, epochs: 2)
            // 9 steps an epoch, each summing the arena's one bucket while the backward pass runs.
            XCTAssertEqual(results.map(\.asynchronousSums), Array(repeating: 18, count: processes))
        }
    }

    /// A shard's rows draw the augmentation the same rows draw in the whole batch.
    func testAShardsRowsAreAugmentedAsInTheWholeBatch() throws {
        let augmentation = try XCTUnwrap(ImageAugmentation(AugmentSpec(horizontalFlip: true, cropPadding: 2), shape: [1, 8, 8]))
        let whole = augmentation.draws(rows: 40, seed: 77)
        XCTAssertEqual(augmentation.draws(rows: 12, seed: 77, skipping: 20), Array(whole[20..<32]))
        XCTAssertEqual(augmentation.draws(rows: 40, seed: 77, skipping: 0), whole)
        XCTAssertNotEqual(augmentation.draws(rows: 12, seed: 77), Array(whole[20..<32]))
    }

    /// The arena's buckets, from its end (the last layers), become final one after another as the backward
    /// pass goes on, so that each can be summed while the rest of it runs.
    func testTheLastLayersBucketsAreFinalBeforeTheBackwardPassEnds() throws {
        let spec = try Self.spec(weighting: "fixed", epochs: 1, classWeights: false)
        let trainer = try Trainer(plan: RunPlan(spec, data: Self.data(for: spec), device: nil), backend: CPUBackend())
        let arena = try XCTUnwrap(trainer.steps.gradientArena)
        let writes = try trainer.steps.executor.gradientArenaWrites()
        let exchange = GradientExchange(group: LocalProcessGroup(), backend: trainer.backend, bucketElements: 100)
        let plan = exchange.plan(count: arena.layout.count, writes: writes)
        XCTAssertEqual(plan.buckets.count, (arena.layout.count + 99) / 100)
        XCTAssertEqual(plan.buckets.first?.upperBound, arena.layout.count)
        XCTAssertEqual(plan.buckets.last?.lowerBound, 0)
        // Every parameter's gradient is written by some kernel of the step.
        for name in trainer.parameters.trainableNames {
            let offset = arena.layout.offsets[name]!, count = arena.layout.counts[name]!
            XCTAssertTrue(writes.joined().contains { $0.contains(offset) && $0.contains(offset + count - 1) }, name)
        }
        XCTAssertTrue(plan.readyAfter.allSatisfy { $0 >= 0 })
        // The heads' bucket is final well before the first layer's, which the backward pass computes last.
        XCTAssertLessThan(plan.readyAfter.first!, plan.readyAfter.last!)
        XCTAssertLessThan(plan.readyAfter.first!, writes.lastIndex { !$0.isEmpty }!)
    }

    func testEveryWeightingMethodTrainsTheSameInTwoProcesses() throws {
        for weighting in ["uncertainty", "{gradnorm: {alpha: 1.5, lr: 0.025}}", "{dwa: {temperature: 2}}", "pcgrad", "mgda"] {
            try assertSameTraining(weighting: weighting, processes: 2, epochs: 2)
        }
    }

    func testClassWeightsAndUnevenSharesTrainTheSame() throws {
        // 24 rows over 5 processes: shares of 5, 5, 5, 5 and 4 rows.
        try assertSameTraining(weighting: "fixed", processes: 5, epochs: 1, classWeights: true)
    }

    func testResumingWithAnotherNumberOfProcessesContinuesTheRun() throws {
        // Two epochs in one process, then a third in three processes from its checkpoint: as three in one.
        let spec = try Self.spec(weighting: "fixed", epochs: 3, classWeights: false)
        let data = try Self.data(for: spec)
        let whole = try Trainer(plan: RunPlan(spec, data: data, device: nil), backend: CPUBackend())
        _ = try whole.train()
        let first = try Trainer(plan: RunPlan(spec, data: data, device: nil), backend: CPUBackend())
        _ = try first.train(epochs: 2)
        let saved = try TrainingCheckpoint.decoded(first.checkpoint().safeTensors(file: "saved").encoded(), file: "saved")
        let results = try trainInThreads(spec, data: data, processes: 3, epochs: 3) { trainer in
            if trainer.group.isRoot { try trainer.restore(saved) }
            try trainer.adoptRootState()
        }
        try assertAgree(results, with: whole, label: "resumed in 3 processes")
    }

    // MARK: Helpers

    private struct Result {
        var parameters: [String: [Float]]
        var reports: [EpochReport]
        var asynchronousSums: Int
    }

    @discardableResult
    private func assertSameTraining(weighting: String, processes: Int, epochs: Int, classWeights: Bool = false,
                                    file: StaticString = #filePath, line: UInt = #line) throws -> [Result] {
        let spec = try Self.spec(weighting: weighting, epochs: epochs, classWeights: classWeights)
        let data = try Self.data(for: spec)
        let single = try Trainer(plan: RunPlan(spec, data: data, device: nil), backend: CPUBackend())
        _ = try single.train()
        let results = try trainInThreads(spec, data: data, processes: processes, epochs: epochs)
        try assertAgree(results, with: single, label: "\(weighting), \(processes) processes", file: file, line: line)
        return results
    }

    private func assertAgree(_ results: [Result], with single: Trainer, label: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        for result in results.dropFirst() {
            XCTAssertTrue(result.parameters == results[0].parameters,
                          "\(label): the processes' parameters differ", file: file, line: line)
        }
        let expected = try single.parameters.snapshot()
        var worst = 0.0
        for (name, values) in expected {
            for (a, b) in zip(values, results[0].parameters[name]!) {
                worst = max(worst, Double(abs(a - b)) / max(1, Double(abs(a))))
            }
        }
        XCTAssertLessThan(worst, 2e-5, "\(label): parameters differ from one process's by \(worst)", file: file, line: line)
        let reports = results[0].reports, singleReports = single.history.suffix(reports.count)
        XCTAssertEqual(reports.count, singleReports.count, label, file: file, line: line)
        for (report, reference) in zip(reports, singleReports) {
            XCTAssertEqual(report.steps, reference.steps, label, file: file, line: line)
            for (a, b) in zip(report.train + report.validation, reference.train + reference.validation) {
                XCTAssertEqual(a.labelledRows, b.labelledRows, "\(label): \(a.task)", file: file, line: line)
                XCTAssertEqual(a.loss, b.loss, accuracy: 1e-4 * max(1, abs(b.loss)), "\(label): \(a.task) loss", file: file, line: line)
                for (m, n) in zip(a.metrics, b.metrics) {
                    XCTAssertEqual(m.value, n.value, accuracy: 1e-4, "\(label): \(a.task) \(m.name)", file: file, line: line)
                }
            }
            let pairs = zip(report.weights, reference.weights).map { ($0, $1, "weight") }
                + zip(report.gradientCosines.map(\.cosine), reference.gradientCosines.map(\.cosine)).map { ($0, $1, "cosine") }
            XCTAssertEqual(report.gradientCosines.count, reference.gradientCosines.count, label, file: file, line: line)
            for (a, b, what) in pairs {
                XCTAssertEqual(a, b, accuracy: 1e-4, "\(label): \(what)", file: file, line: line)
            }
        }
    }

    /// Trains `processes` trainers of `spec`, one per thread, each in its own member of one group.
    private func trainInThreads(_ spec: ModelSpec, data: ModelData, processes: Int, epochs: Int,
                                prepare: @escaping @Sendable (Trainer) throws -> Void = { _ in }) throws -> [Result] {
        let members = ThreadProcessGroup.members(processes)
        let results = Locked<[Int: Swift.Result<Result, Error>]>([:])
        let threads = members.map { group in
            Thread {
                let outcome = Swift.Result<Result, Error> {
                    let trainer = try Trainer(plan: RunPlan(spec, data: data, device: nil, processes: processes),
                                              backend: CPUBackend(), group: group)
                    try prepare(trainer)
                    let reports = try trainer.train(epochs: epochs)
                    return Result(parameters: try trainer.parameters.snapshot(), reports: reports,
                                  asynchronousSums: group.asynchronousSums.value)
                }
                results.update { $0[group.rank] = outcome }
            }
        }
        threads.forEach { $0.stackSize = 8 << 20; $0.start() }
        let deadline = Date().addingTimeInterval(300)
        while results.value.count < processes, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual(results.value.count, processes, "the processes did not finish (a collective hung?)")
        return try (0..<processes).map { try results.value[$0]!.get() }
    }

    static func spec(weighting: String, epochs: Int, classWeights: Bool) throws -> ModelSpec {
        try ModelFile.parse("""
            name: parallel
            data: {source: builtin:digits, validation: 0.2, seed: 3}
            input: {shape: [64], scale: 0.0625}
            shared: [{dense: 16}, tanh, {dropout: 0.2}]
            tasks:
              digit: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy, macro_f1]\(classWeights ? ", class_weights: balanced" : "")}
              value: {head: [{dense: 1}], loss: mse, metrics: [r2, mae], weight: 0.5}
            train: {optimizer: {sgd: {lr: 0.05, momentum: 0.9}}, batch_size: 24, epochs: \(epochs), seed: 5, weighting: \(weighting)}
            """, fileName: "parallel.yaml", baseDirectory: nil)
    }

    /// The first 203 training rows, every 5th without its digit label; 61 validation rows.
    static func data(for spec: ModelSpec) throws -> ModelData {
        let loaded = try RunPlan(spec, device: nil).data
        var train = loaded.train.subset(rows: Array(0..<203))
        var digit = train.labels["digit"]!
        for row in stride(from: 0, to: 203, by: 5) { digit.present[row] = false; digit.values[row] = 0 }
        train.labels["digit"] = digit
        return ModelData(train: train, validation: loaded.validation.subset(rows: Array(0..<61)))
    }
}

/// A value shared between threads behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
