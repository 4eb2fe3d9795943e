import Canopy
import CanopyTestSupport
import Foundation
import XCTest
@testable import CanopyTrain

/// Steps record their tasks' losses, labelled counts and outputs on the device and the trainer reads several
/// steps back at once (``TaskReadings``): what comes back is exactly what an immediate read gave, slot by slot.
final class TaskReadingsTests: XCTestCase {
    func testRecordedStepsReadBackAsImmediateReads() throws {
        try check(on: CPUBackend())
        let openCL = TestModels.openCL()
        guard let backend = openCL.backend else { throw XCTSkip(openCL.reason) }
        try check(on: backend)
    }

    private func check(on backend: Backend) throws {
        let trainer = try Trainer(spec: TestModels.digitsMLP(), backend: backend)
        let executor = trainer.steps.executor
        // A record of 3 slots, filled twice over 7 steps (two reads of 3, one of 1).
        let readings = try TaskReadings(tasks: trainer.model.tasks, executor: executor, maxSteps: 3)
        XCTAssertEqual(readings.capacity, 3)
        var immediate: [[[Float]]] = [], readBack: [[TaskReadings.Reading]] = []
        for index in 0..<7 {
            if readings.isFull { readBack += try readings.read() }
            let pending = try trainer.step(batch: index)
            try readings.record()
            XCTAssertEqual(pending.step, index + 1)
            immediate.append(try trainer.model.tasks.map { task in
                try executor.read(task.loss) + executor.read(task.labelledCount) + executor.read(task.output)
            })
        }
        readBack += try readings.read()
        XCTAssertEqual(try readings.read().count, 0, "a read empties the record")
        XCTAssertEqual(readBack.count, 7)
        for (step, (expected, actual)) in zip(immediate, readBack).enumerated() {
            for (t, reading) in actual.enumerated() {
                XCTAssertEqual([reading.loss, reading.labelled] + Array(reading.outputs), expected[t],
                               "\(backend.name): step \(step + 1), task \(trainer.model.tasks[t].spec.name)")
            }
        }
        XCTAssertEqual(immediate[0][0][1], 50, "the first batch has 50 labelled digits")
        XCTAssertNotEqual(immediate[0][0][0], immediate[1][0][0], "steps differ")
    }

    func testARecordIsBoundedByItsBudgetAndRefusesAStepWhenFull() throws {
        let trainer = try Trainer(spec: TestModels.digitsMLP(), backend: CPUBackend())
        // A slot: 3 tasks × (loss, count) + 50 × (10 + 2 + 1) outputs, each at a multiple of 16 floats (the cpu
        // backend's view alignment): 0, 16, 32 ..< 532; 544, 560, 576 ..< 676; 688, 704, 720 ..< 770.
        let gathered = try XCTUnwrap(trainer.steps.executor.gathered)
        XCTAssertEqual(gathered.offsets, [0, 16, 32, 544, 560, 576, 688, 704, 720])
        XCTAssertEqual(gathered.count, 770)
        XCTAssertEqual(gathered.copiedCount, 0, "every recorded value is computed in place")
        let readings = try TaskReadings(tasks: trainer.model.tasks, executor: trainer.steps.executor, budget: 2000)
        XCTAssertEqual(readings.capacity, 2)
        XCTAssertEqual(try TaskReadings(tasks: trainer.model.tasks, executor: trainer.steps.executor, budget: 10).capacity, 1)
        for _ in 0..<2 { try readings.record() }
        XCTAssertThrowsError(try readings.record())
        readings.discard()
        XCTAssertFalse(readings.isFull)
    }

    /// Evaluation reads its batches a record at a time: 359 validation rows in 90 batches of 4 (more than a
    /// record holds; the last with one padding row) score as one batch of 359 does.
    func testEvaluationOverManyRecordsScoresAsOneBatch() throws {
        let trainer = try Trainer(spec: TestModels.digitsMLP(epochs: 1), backend: CPUBackend())
        _ = try trainer.train()
        let values = try trainer.parameters.snapshot()
        func scores(batchSize: Int) throws -> [TaskScore] {
            let model = try ModelGraph.build(trainer.spec, batchSize: batchSize, training: false)
            let store = try ParameterStore(graph: model.graph, backend: CPUBackend())
            try store.load(values)
            return try Evaluator(model: model, parameters: store).evaluate(trainer.data.validation)
        }
        let small = try scores(batchSize: 4), whole = try scores(batchSize: trainer.data.validation.rowCount)
        XCTAssertEqual(trainer.data.validation.rowCount, 359)
        for (a, b) in zip(small, whole) {
            XCTAssertEqual(a.labelledRows, b.labelledRows)
            XCTAssertEqual(a.loss, b.loss, accuracy: 1e-5 * max(1, abs(b.loss)), a.task)
            for (x, y) in zip(a.metrics, b.metrics) { XCTAssertEqual(x.value, y.value, accuracy: 1e-6, "\(a.task) \(x.name)") }
        }
    }
}
