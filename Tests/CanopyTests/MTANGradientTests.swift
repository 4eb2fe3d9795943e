import Canopy
import CanopyTestSupport
import Foundation
import XCTest

/// Autodiff through MTAN (trunk, per-task attention masks, the strided bridge between points, and the default
/// attention layers' batch norm) against central differences of a two-task loss, on both backends.
final class MTANGradientTests: XCTestCase {
    func testGradientsMatchFiniteDifferences() throws {
        let spec = try ModelFile.parse("""
            name: m
            data: {source: builtin:digits}
            input: {shape: [1, 4, 4]}
            mtan:
              trunk: [{conv2d: {filters: 2, kernel: 3, padding: 1}}, tanh, {avgpool: 2}, {conv2d: {filters: 3, kernel: 1}}, tanh]
              at: [1, 4]
            tasks:
              a: {head: [flatten, {dense: 1}], loss: mse}
              b: {head: [flatten, {dense: 1}], loss: mse, weight: 0.5}
            train: {optimizer: adam, batch_size: 3, epochs: 1}
            """, fileName: "m.yaml", baseDirectory: nil)
        var backends: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        for backend in backends {
            let model = try ModelGraph.build(spec, batchSize: 3)
            let store = try ParameterStore(graph: model.graph, backend: backend)
            let initial = ParameterInitializer.initialValues(for: model.graph, seed: 11)
            try store.load(initial)
            // One scalar: the sum of both tasks' weighted losses, read from a joint loss node.
            let joint = try model.graph.binary(.add, model.tasks[0].loss,
                                               model.graph.scale(model.tasks[1].loss, by: 0.5))
            let executor = try Executor(graph: model.graph, backend: backend, parameters: store,
                                        outputs: [joint] + Array(model.gradients.values), mode: .training)
            var random = TestRandom(seed: 2)
            try executor.setInput(ModelGraph.inputName, (0..<3 * 16).map { _ in random.float(in: -1...1) })
            try executor.setInput(ModelGraph.realRowsInputName, [1, 1, 1])
            for task in model.tasks {
                try executor.setInput(task.labelsInput, (0..<3).map { _ in random.float(in: -1...1) })
                try executor.setInput(task.maskInput, [1, 1, 1])
                try executor.setInput(task.weightInput, [task.spec.weight])
            }
            let analytic = try checkParameterGradients(executor: executor, store: store, loss: joint,
                                                       gradients: model.gradients, initial: initial,
                                                       label: "mtan on \(backend.name)")
            XCTAssertNotNil(analytic["mtan.b.1.bridge.weight"])
            XCTAssertNotNil(analytic["trunk.0.weight"])
        }
    }
}
