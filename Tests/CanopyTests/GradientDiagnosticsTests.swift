import Canopy
import CanopyTestSupport
import XCTest
@testable import CanopyTrain

/// The epoch's gradient-conflict measurement reads every task's shared gradients in one download (an executor
/// that gathers them): the vectors are those read value by value from an executor planned with them as outputs,
/// and the cosines are those of the vectors.
final class GradientDiagnosticsTests: XCTestCase {
    func testGatheredGradientsAreThoseReadValueByValue() throws {
        try check(on: CPUBackend())
        let openCL = TestModels.openCL()
        guard let backend = openCL.backend else { throw XCTSkip(openCL.reason) }
        try check(on: backend)
    }

    private func check(on backend: Backend) throws {
        let trainer = try Trainer(spec: TestModels.digitsMLP(), backend: backend)
        try trainer.runSteps(3)
        let model = trainer.model
        let values = model.sharedGradientValues
        XCTAssertEqual(values.count, 3 * model.sharedParameters.count, "3 tasks reach every shared parameter")
        let gathering = try Executor(graph: model.graph, backend: backend, parameters: trainer.parameters,
                                     outputs: [], mode: .training, gathered: values)
        let reading = try Executor(graph: model.graph, backend: backend, parameters: trainer.parameters,
                                   outputs: values, mode: .training)
        XCTAssertNil(reading.gathered)
        var batcher = try Batcher(dataset: trainer.data.train, batchSize: model.batchSize,
                                  labelColumns: model.tasks.map(\.spec.label), transform: trainer.batcher.transform)
        var batch = batcher.makeBatch()
        try batcher.fill(&batch, index: 1)
        for executor in [gathering, reading] {
            try model.uploadConstants(to: executor)
            try model.uploadReversalFactors(progress: 0.5, to: executor)
            var rowMask = [Float](repeating: 0, count: model.batchSize)
            try TaskInputs.upload(batch, model: model, to: executor, rowMask: &rowMask)
            for task in model.tasks where executor.inputNames.contains(task.weightInput) {
                try executor.setInput(task.weightInput, [1])
            }
            try executor.run(seed: 7, updatingState: false)
        }
        let gathered = try model.sharedGradients(in: gathering)
        let separate = try model.tasks.indices.map { try model.sharedGradient(ofTask: $0, in: reading) }
        XCTAssertEqual(try model.sharedGradients(in: reading), separate, "without gathering, value by value")
        for t in model.tasks.indices {
            XCTAssertGreaterThan(separate[t].map(abs).max() ?? 0, 0, "task \(t) has a gradient")
            assertClose(gathered[t], separate[t], tolerance: .float32, "\(backend.name): task \(t)")
        }
        let cosines = try trainer.measureGradientConflict()
        XCTAssertEqual(cosines.count, 3)
        for pair in cosines { XCTAssertTrue(pair.cosine.isFinite && abs(pair.cosine) <= 1 + 1e-9, "\(pair)") }
    }
}
