import Canopy
import Foundation
import XCTest

/// The losses huber, l1 and binary cross-entropy with pos_weight, trained end to end on the builtin digits on both
/// backends.
final class LossTrainingTests: XCTestCase {
    /// A dense model on the builtin digits with one task on `label`.
    func spec(_ loss: LossKind, _ settings: LossSettings = LossSettings(), label: String, metrics: [MetricKind],
              epochs: Int) -> ModelSpec {
        func layer(_ kind: LayerKind, _ path: String) -> LayerSpec { LayerSpec(kind: kind, keyPath: path) }
        var task = TaskSpec(name: "t", head: [layer(.dense(units: 1), "tasks.t.head[0]")], loss: loss, metrics: metrics,
                            label: label)
        task.lossSettings = settings
        return ModelSpec(
            name: "loss-test",
            data: DataSpec(source: .builtin("digits"), validation: 0.2, seed: 7),
            input: InputSpec(shape: [64], scale: 1.0 / 16),
            shared: [layer(.dense(units: 32), "shared[0]"), layer(.activation(.relu), "shared[1]")],
            tasks: [task],
            train: TrainSpec(optimizer: .adam(learningRate: 0.01), batchSize: 50, epochs: epochs, seed: 3))
    }

    /// A regression of the digit's value learns with huber and with l1 on both backends, which agree.
    func testHuberAndL1LearnTheDigitValueOnBothBackends() throws {
        guard let openCL = TestModels.openCL().backend else { throw XCTSkip(TestModels.openCL().reason) }
        for (loss, settings) in [(LossKind.huber, LossSettings(delta: 0.5)), (.l1, LossSettings())] {
            let spec = spec(loss, settings, label: "value", metrics: [.mae, .mse], epochs: 4)
            let cpuTrainer = try Trainer(spec: spec, backend: CPUBackend())
            let cpu = try cpuTrainer.train()
            let gpu = try Trainer(spec: spec, backend: openCL).train()
            for (a, b) in zip(cpu, gpu) {
                let (x, y) = (a.validation[0].loss, b.validation[0].loss)
                print("\(loss.rawValue) epoch \(a.epoch): cpu \(x) mae \(a.validation[0].metric("mae")!) | opencl \(y)")
                XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(x)), "\(loss.rawValue) epoch \(a.epoch)")
            }
            // Predicting the mean digit gives a mean absolute error of about 2.5.
            XCTAssertLessThan(cpu.last!.validation[0].metric("mae")!, 1.5, loss.rawValue)
            XCTAssertLessThan(cpu.last!.validation[0].loss, cpu.first!.validation[0].loss, loss.rawValue)

            // The same parameters evaluated on OpenCL give the CPU's loss.
            let moved = try cpuTrainer.parameters.moved(to: openCL, graph: cpuTrainer.model.graph)
            let onOpenCL = try Evaluator(model: cpuTrainer.model, parameters: moved).evaluate(cpuTrainer.data.validation)
            let onCPU = try cpuTrainer.evaluate(cpuTrainer.data.validation)
            XCTAssertEqual(onCPU[0].loss, onOpenCL[0].loss, accuracy: 1e-4 * max(1, abs(onCPU[0].loss)), loss.rawValue)
        }
    }

    /// A weight on the positive class (digits ≥ 5) trades precision for recall.
    func testPositiveWeightRaisesRecall() throws {
        func recall(_ posWeight: Float, on backend: Backend) throws -> (recall: Double, precision: Double) {
            let spec = spec(.binaryCrossEntropy, LossSettings(positiveWeight: posWeight), label: "large",
                            metrics: [.recall, .precision], epochs: 2)
            let score = try Trainer(spec: spec, backend: backend).train().last!.validation[0]
            print("pos_weight \(posWeight): \(score.metrics)")
            return (score.metric("recall")!, score.metric("precision")!)
        }
        var backends: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        for backend in backends {
            let plain = try recall(1, on: backend), weighted = try recall(20, on: backend)
            XCTAssertGreaterThan(weighted.recall, plain.recall)
            XCTAssertGreaterThan(weighted.recall, 0.97)
            XCTAssertLessThan(weighted.precision, plain.precision)
        }
    }
}
