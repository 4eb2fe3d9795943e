import Canopy
import Foundation
import XCTest

/// What an embedding library does: train on one backend, move the parameters to another, evaluate there.
final class BackendSwitchingTests: XCTestCase {
    func testTrainOnCPUThenEvaluateOnOpenCLGivesTheSameMetrics() throws {
        let (openCL, reason) = TestModels.openCL()
        guard let openCL else { throw XCTSkip(reason) }
        let spec = TestModels.digitsMLP(epochs: 3)
        let trainer = try Trainer(spec: spec, backend: CPUBackend())
        _ = try trainer.train()
        let onCPU = try trainer.evaluate(trainer.data.validation)

        let moved = try trainer.parameters.moved(to: openCL, graph: trainer.model.graph)
        let onOpenCL = try Evaluator(model: trainer.model, parameters: moved).evaluate(trainer.data.validation)

        for (cpu, gpu) in zip(onCPU, onOpenCL) {
            print("\(cpu.task): cpu loss \(cpu.loss) \(cpu.metrics) | opencl loss \(gpu.loss) \(gpu.metrics)")
            XCTAssertEqual(cpu.loss, gpu.loss, accuracy: 1e-4 * max(1, abs(cpu.loss)), cpu.task)
            for (a, b) in zip(cpu.metrics, gpu.metrics) {
                XCTAssertEqual(a.value, b.value, accuracy: 1e-3, "\(cpu.task) \(a.name)")
            }
        }
        XCTAssertGreaterThan(onCPU[0].metric("accuracy") ?? 0, 0.6, "three epochs should be far above chance (0.1)")
    }

    func testAThirdBackendPluggedInThroughTheProtocolTrainsLikeTheOneItWraps() throws {
        let spec = TestModels.digitsMLP(epochs: 1)
        let counting = CountingBackend(wrapping: CPUBackend())
        let counted = try Trainer(spec: spec, backend: counting).train()
        let plain = try Trainer(spec: spec, backend: CPUBackend()).train()
        XCTAssertEqual(counted.last!.train, plain.last!.train, "the wrapper must not change a single bit")
        XCTAssertEqual(counted.last!.validation, plain.last!.validation)
        let steps = counted.last!.steps
        XCTAssertEqual(counting.kernelCalls["adamUpdate"], steps * 8, "one update per parameter (8) per step")
        XCTAssertGreaterThan(counting.kernelCalls["matmul"] ?? 0, steps * 4)
        print("kernel calls through the counting backend: \(counting.kernelCalls.sorted { $0.key < $1.key })")
    }

    func testAMissingKernelIsAnErrorNamingKernelAndBackend() {
        XCTAssertThrowsError(try Trainer(spec: TestModels.digitsMLP(), backend: EmptyBackend()).train()) { error in
            XCTAssertEqual(error as? BackendError, .unsupportedKernel(kernel: "matmulBias", backend: "empty"),
                           "\(error)")
        }
    }
}

/// The code README.md shows, line for line (with the file path made absolute).
final class ReadmeExampleTests: XCTestCase {
    func testTheReadmeLibraryExampleRuns() throws {
        guard TestModels.openCL().backend != nil else { throw XCTSkip(TestModels.openCL().reason) }
        let path = TestModels.examples.appendingPathComponent("digits.yaml").path

        let spec = try ModelFile.load(contentsOf: URL(fileURLWithPath: path))
        let trainer = try Trainer(spec: spec, backend: CPUBackend())
        for report in try trainer.train(epochs: 5) {
            print(report.epoch, report.validation.map { "\($0.task) \($0.metrics)" })
        }

        // Switch at run time: the same parameters, evaluated on OpenCL.
        let openCL = try BackendChoice.opencl.open().backend
        let moved = try trainer.parameters.moved(to: openCL, graph: trainer.model.graph)
        let scores = try Evaluator(model: trainer.model, parameters: moved).evaluate(trainer.data.validation)
        print(scores.map { "\($0.task): loss \($0.loss), \($0.metrics)" })

        let onCPU = try trainer.evaluate(trainer.data.validation)
        XCTAssertEqual(scores.map(\.task), onCPU.map(\.task))
        for (a, b) in zip(onCPU, scores) {
            XCTAssertEqual(a.loss, b.loss, accuracy: 1e-4 * max(1, abs(a.loss)), a.task)
            XCTAssertEqual(a.metric("accuracy") ?? 0, b.metric("accuracy") ?? 0, accuracy: 0.006, "\(a.task): at most two rows may flip")
        }
    }
}

/// Predictions from a checkpoint agree across backends.
final class PredictionParityTests: XCTestCase {
    func testCPUAndOpenCLPredictTheSameClasses() throws {
        guard let openCL = TestModels.openCL().backend else { throw XCTSkip(TestModels.openCL().reason) }
        let spec = TestModels.digitsMLP(epochs: 2)
        let trainer = try Trainer(spec: spec, backend: CPUBackend())
        _ = try trainer.train()
        let checkpoint = try trainer.checkpoint()
        let rows = trainer.data.validation
        let cpu = try TrainedModel(spec: spec, checkpoint: checkpoint, backend: CPUBackend())
        let onCPU = try Predictor(model: cpu.model, parameters: cpu.parameters).predictAll(rows)
        let trained = try TrainedModel(spec: spec, checkpoint: checkpoint, backend: openCL)
        let onOpenCL = try Predictor(model: trained.model, parameters: trained.parameters).predictAll(rows)
        XCTAssertEqual(onCPU.count, rows.rowCount)
        let classes = { (predictions: [[TaskPrediction]]) in predictions.map { $0.map(\.predictedClass) } }
        let differing = zip(classes(onCPU), classes(onOpenCL)).filter { $0 != $1 }.count
        print("predicted classes differing between cpu and opencl: \(differing) of \(rows.rowCount) rows")
        XCTAssertLessThanOrEqual(differing, 2, "at most a borderline row or two may flip")
    }
}
