import Canopy
import CanopyTestSupport
import Foundation
import XCTest
@testable import CanopyTrain

/// A CNN with batch norm (2-D after a convolution, 1-D after a dense layer) trains on the builtin digits on both
/// backends to the same losses; the running statistics move in training only, are what evaluation uses, and are
/// saved and restored with the parameters.
final class BatchNormTrainingTests: XCTestCase {
    /// 1,437 training rows at batch 64: the last batch has 29 real rows and 35 padding rows, which batch norm must
    /// leave out of its statistics.
    static let model = """
        name: batchnorm
        data: {source: builtin:digits, validation: 0.2, seed: 3}
        input: {shape: [1, 8, 8], scale: 0.0625}
        shared:
          - conv2d: {filters: 8, kernel: 3, padding: 1, bias: false}
          - batchnorm
          - relu
          - maxpool: 2
          - flatten
          - {dense: {units: 32, bias: false}}   # a bias before batch norm only adds noise (see README)
          - {batchnorm: {momentum: 0.2}}
          - relu
        tasks:
          digit: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy]}
          parity: {head: [{dense: 2}], loss: cross_entropy, metrics: [accuracy]}
        train: {optimizer: {adam: {lr: 0.01}}, batch_size: 64, epochs: 3, seed: 2}
        """

    func testLearnsAndBackendsAgree() throws {
        let spec = try ModelFile.parse(Self.model, fileName: "batchnorm.yaml", baseDirectory: nil)
        let cpuTrainer = try Trainer(spec: spec, backend: CPUBackend())
        let cpu = try cpuTrainer.train()
        let accuracy = cpu.last!.validation[0].metric("accuracy")!
        print("batchnorm on cpu: digit validation accuracy \(accuracy)")
        XCTAssertGreaterThan(accuracy, 0.9)

        // The running statistics moved away from their start (mean 0, variance 1).
        let values = try cpuTrainer.parameters.snapshot()
        XCTAssertTrue(values["shared.1.running_mean"]!.contains { abs($0) > 1e-3 })
        XCTAssertTrue(values["shared.6.running_var"]!.contains { abs($0 - 1) > 1e-3 })

        // Validation used the running statistics: a fresh inference plan with these parameters scores the same.
        let model = try ModelGraph.build(spec, batchSize: 64, training: false)
        let store = try ParameterStore(graph: model.graph, backend: CPUBackend())
        try store.load(values)
        let scores = try Evaluator(model: model, parameters: store).evaluate(cpuTrainer.data.validation)
        for (a, b) in zip(scores, cpu.last!.validation) {
            XCTAssertEqual(a.loss, b.loss, accuracy: 1e-6 * max(1, abs(b.loss)), a.task)
        }

        let (openCL, reason) = TestModels.openCL()
        guard let openCL else { throw XCTSkip(reason) }
        let gpuTrainer = try Trainer(spec: spec, backend: openCL)
        let gpu = try gpuTrainer.train()
        let gpuValues = try gpuTrainer.parameters.snapshot()
        for name in values.keys.sorted() {
            let difference = zip(values[name]!, gpuValues[name]!).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(difference, 1e-3, name)
        }
        assertBackendsAgree(cpu, gpu)
    }

    /// Autodiff through 2-D and 1-D batch norm in a whole model, with the batch's last row padding (left out of the
    /// statistics and of the loss), against central differences, on both backends.
    func testWholeModelGradientsMatchFiniteDifferences() throws {
        let spec = try ModelFile.parse("""
            name: g
            data: {source: builtin:digits}
            input: {shape: [2, 3, 3]}
            shared: [{conv2d: {filters: 3, kernel: 2}}, batchnorm, tanh, flatten, {dense: 5}, batchnorm, tanh]
            tasks:
              y: {head: [{dense: 1}], loss: mse}
            train: {optimizer: adam, batch_size: 4, epochs: 1}
            """, fileName: "g.yaml", baseDirectory: nil)
        var backends: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        for backend in backends {
            let model = try ModelGraph.build(spec, batchSize: 4)
            let task = model.tasks[0]
            let store = try ParameterStore(graph: model.graph, backend: backend)
            var initial = ParameterInitializer.initialValues(for: model.graph, seed: 6)
            var random = TestRandom(seed: 4)
            for name in ["shared.1.weight", "shared.5.weight"] { initial[name] = initial[name]!.map { _ in random.float(in: 0.5...1.5) } }
            try store.load(initial)
            let executor = try Executor(graph: model.graph, backend: backend, parameters: store,
                                        outputs: [task.loss] + Array(model.gradients.values), mode: .training)
            try executor.setInput(ModelGraph.inputName, (0..<4 * 18).map { _ in random.float(in: -1...1) })
            try executor.setInput(ModelGraph.realRowsInputName, [1, 1, 1, 0])
            try executor.setInput(task.labelsInput, (0..<4).map { _ in random.float(in: -1...1) })
            try executor.setInput(task.maskInput, [1, 1, 1, 0])
            try executor.setInput(task.weightInput, [1])
            let analytic = try checkParameterGradients(executor: executor, store: store, loss: task.loss,
                                                       gradients: model.gradients, initial: initial,
                                                       label: "batchnorm on \(backend.name)")
            XCTAssertNil(analytic["shared.1.running_mean"], "running statistics have no gradient")
        }
    }

    /// Measuring gradient conflict runs training-mode forward passes but leaves the running statistics alone, and
    /// so does evaluation.
    func testMeasurementsDoNotMoveTheRunningStatistics() throws {
        var spec = try ModelFile.parse(Self.model, fileName: "batchnorm.yaml", baseDirectory: nil)
        spec.train.epochs = 1
        let trainer = try Trainer(spec: spec, backend: CPUBackend())
        _ = try trainer.train()
        let before = try trainer.parameters.snapshot()
        _ = try trainer.measureGradientConflict()
        _ = try Evaluator(model: try ModelGraph.build(spec, batchSize: 64, training: false),
                          parameters: trainer.parameters).evaluate(trainer.data.validation)
        XCTAssertEqual(try trainer.parameters.snapshot(), before)
    }

    /// A run interrupted after an epoch and resumed from its checkpoint ends with the same parameters and running
    /// statistics, bit for bit, as one that was not.
    func testResumeRestoresTheRunningStatistics() throws {
        let spec = try ModelFile.parse(Self.model, fileName: "batchnorm.yaml", baseDirectory: nil)
        let straight = try Trainer(spec: spec, backend: CPUBackend())
        _ = try straight.train()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-bn-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        let first = try Trainer(spec: spec, backend: CPUBackend())
        _ = try first.train(epochs: 1)
        let checkpoint = try first.checkpoint()
        XCTAssertTrue(checkpoint.parameters.contains { $0.name == "shared.6.running_mean" })
        XCTAssertFalse(checkpoint.optimizerState.contains { $0.name.hasPrefix("shared.6.running_mean") },
                       "running statistics have no optimizer state")
        try checkpoint.write(to: file)
        let resumed = try Trainer(spec: spec, backend: CPUBackend())
        try resumed.restore(TrainingCheckpoint.read(from: file))
        _ = try resumed.train()
        XCTAssertEqual(try resumed.parameters.snapshot(), try straight.parameters.snapshot())
    }
}
