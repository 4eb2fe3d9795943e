import Canopy
import CanopyTestSupport
import Foundation
import XCTest

/// Convolutions with groups, rectangular windows and conv1d end to end: autodiff's gradients through whole
/// models (the conv1d weight viewed as a 4-D tensor, grouped and depthwise layers) against central differences on
/// the CPU and on OpenCL, and a depthwise-separable model learning the builtin digits on both backends.
final class ConvTrainingTests: XCTestCase {
    /// A grouped rectangular conv2d, a depthwise one, then conv1d over the rows with groups: every parameter's
    /// gradient against central differences of the loss.
    static let gradientModel = """
        name: g
        data: {source: builtin:digits}
        input: {shape: [2, 4, 6]}
        shared:
          - conv2d: {filters: 4, kernel: [3, 2], stride: [1, 2], padding: [1, 1], groups: 2}
          - tanh
          - conv2d: {filters: 4, kernel: [1, 3], padding: [0, 1], groups: 4, init: pytorch}
          - reshape: [16, 4]
          - conv1d: {filters: 4, kernel: 3, stride: 2, padding: 1, groups: 4, init: pytorch}
          - tanh
          - flatten
        tasks:
          y: {head: [{dense: 1}], loss: mse}
        train: {optimizer: adam, batch_size: 3, epochs: 1}
        """

    func testGradientsMatchFiniteDifferencesOnTheCPU() throws {
        try checkGradients(on: CPUBackend())
    }

    func testGradientsMatchFiniteDifferencesOnOpenCL() throws {
        let (openCL, reason) = TestModels.openCL()
        guard let openCL else { throw XCTSkip(reason) }
        try checkGradients(on: openCL)
    }

    private func checkGradients(on backend: Backend) throws {
        let spec = try ModelFile.parse(Self.gradientModel, fileName: "g.yaml", baseDirectory: nil)
        let model = try ModelGraph.build(spec, batchSize: 3)
        let task = model.tasks[0]
        let store = try ParameterStore(graph: model.graph, backend: backend)
        let initial = ParameterInitializer.initialValues(for: model.graph, seed: 4)
        try store.load(initial)
        let executor = try Executor(graph: model.graph, backend: backend, parameters: store,
                                    outputs: [task.loss] + Array(model.gradients.values), mode: .training)
        var random = TestRandom(seed: 9)
        try executor.setInput(ModelGraph.inputName, (0..<3 * 48).map { _ in random.float(in: -1...1) })
        try executor.setInput(task.labelsInput, (0..<3).map { _ in random.float(in: -1...1) })
        try executor.setInput(task.maskInput, [1, 1, 1])
        try executor.setInput(task.weightInput, [1])
        let analytic = try checkParameterGradients(executor: executor, store: store, loss: task.loss,
                                                   gradients: model.gradients, initial: initial, stride: 2,
                                                   label: "\(backend.name) conv")
        XCTAssertEqual(Set(analytic.keys), Set(initial.keys), "every parameter gets a gradient")
        XCTAssertEqual(analytic["shared.4.weight"]?.count, 4 * 4 * 3, "conv1d's weight [4, 4, 3]")
    }

    /// A depthwise-separable network (depthwise 3×3, then pointwise 1×1), then a strided rectangular conv2d and a
    /// depthwise conv1d along the rows.
    static let separableModel = """
        name: separable
        data: {source: builtin:digits}
        input: {shape: [1, 8, 8], scale: 0.0625}
        shared:
          - conv2d: {filters: 8, kernel: 3, padding: 1}
          - relu
          - conv2d: {filters: 8, kernel: 3, padding: 1, groups: 8}   # depthwise
          - relu
          - conv2d: {filters: 16, kernel: 1}                          # pointwise
          - relu
          - conv2d: {filters: 16, kernel: [2, 1], stride: [2, 1]}     # 16×4×8
          - reshape: [64, 8]
          - conv1d: {filters: 16, kernel: 3, stride: 2, padding: 1, groups: 16}  # 16×4
          - relu
          - flatten
        tasks:
          digit: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy]}
        train: {optimizer: {adam: {lr: 0.01}}, batch_size: 32, epochs: 3, seed: 3}
        """

    func testDepthwiseSeparableModelLearnsAndBackendsAgree() throws {
        let spec = try ModelFile.parse(Self.separableModel, fileName: "separable.yaml", baseDirectory: nil)
        let cpu = try Trainer(spec: spec, backend: CPUBackend()).train()
        let (first, last) = (cpu.first!.validation[0], cpu.last!.validation[0])
        print("separable on cpu: validation loss \(first.loss) → \(last.loss), accuracy \(last.metric("accuracy")!)")
        XCTAssertLessThan(last.loss, first.loss, "the model should keep learning")
        XCTAssertGreaterThan(last.metric("accuracy")!, 0.8)

        let (openCL, reason) = TestModels.openCL()
        guard let openCL else { throw XCTSkip(reason) }
        let gpu = try Trainer(spec: spec, backend: openCL).train()
        assertBackendsAgree(cpu, gpu)
    }
}
