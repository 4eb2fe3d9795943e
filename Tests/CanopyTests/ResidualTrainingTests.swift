import Canopy
import CanopyTestSupport
import Foundation
import XCTest

/// Residual blocks end to end: autodiff's gradient through `x + f(x)` (the sum of the skip's and the block's,
/// `1 + f'`) against central differences, and a small model with blocks in the stem and a head learning the
/// builtin digits on the CPU and on OpenCL, which agree.
final class ResidualTrainingTests: XCTestCase {
    func testGradientThroughABlockMatchesFiniteDifferences() throws {
        let spec = try ModelFile.parse("""
            name: r
            data: {source: builtin:digits}
            input: {shape: [6]}
            shared: [{dense: 5}, tanh, {residual: [{dense: 5}, tanh, {residual: [{dense: 5}]}]}]
            tasks:
              y: {head: [{residual: [{dense: 5}, sigmoid]}, {dense: 1}], loss: mse}
            train: {optimizer: adam, batch_size: 4, epochs: 1}
            """, fileName: "r.yaml", baseDirectory: nil)
        let model = try ModelGraph.build(spec, batchSize: 4)
        let task = model.tasks[0]
        let backend = CPUBackend()
        let store = try ParameterStore(graph: model.graph, backend: backend)
        let initial = ParameterInitializer.initialValues(for: model.graph, seed: 8)
        try store.load(initial)
        let executor = try Executor(graph: model.graph, backend: backend, parameters: store,
                                    outputs: [task.loss] + Array(model.gradients.values), mode: .training)
        var random = TestRandom(seed: 5)
        try executor.setInput(ModelGraph.inputName, (0..<24).map { _ in random.float(in: -1...1) })
        try executor.setInput(task.labelsInput, (0..<4).map { _ in random.float(in: -1...1) })
        try executor.setInput(task.maskInput, [1, 1, 1, 1])
        try executor.setInput(task.weightInput, [1])
        let analytic = try checkParameterGradients(executor: executor, store: store, loss: task.loss,
                                                   gradients: model.gradients, initial: initial, stride: 3,
                                                   label: "residual")
        XCTAssertEqual(Set(analytic.keys), Set(initial.keys), "every parameter gets a gradient")
    }

    static let model = """
        name: residual
        data: {source: builtin:digits}
        input: {shape: [64], scale: 0.0625}
        shared:
          - dense: 32
          - relu
          - residual: [{dense: 32}, relu, {dense: 32}]
          - relu
        tasks:
          digit: {head: [{residual: [{dense: 32}, tanh]}, {dense: 10}], loss: cross_entropy, metrics: [accuracy]}
        train: {optimizer: {adam: {lr: 0.01}}, batch_size: 32, epochs: 3, seed: 2}
        """

    func testLearnsAndBackendsAgree() throws {
        let spec = try ModelFile.parse(Self.model, fileName: "residual.yaml", baseDirectory: nil)
        let cpu = try Trainer(spec: spec, backend: CPUBackend()).train()
        let (first, last) = (cpu.first!.validation[0], cpu.last!.validation[0])
        print("residual on cpu: validation loss \(first.loss) → \(last.loss), accuracy \(last.metric("accuracy")!)")
        XCTAssertLessThan(last.loss, first.loss, "the model should keep learning")
        XCTAssertGreaterThan(last.metric("accuracy")!, 0.9)

        let (openCL, reason) = TestModels.openCL()
        guard let openCL else { throw XCTSkip(reason) }
        let gpu = try Trainer(spec: spec, backend: openCL).train()
        assertBackendsAgree(cpu, gpu)
    }
}
