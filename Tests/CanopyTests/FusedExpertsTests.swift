import Canopy
import CanopyTestSupport
import Foundation
import XCTest

/// MMoE experts of one dense layer and activations run as one wide product: the same losses and gradients as the
/// same experts built one by one (an expert with a dropout of 0 is not fused), and gradients that match central
/// differences, on both backends.
final class FusedExpertsTests: XCTestCase {
    func model(expert: String) -> String {
        """
        name: m
        data: {source: builtin:synthetic-mmoe}
        input: {shape: [6]}
        mmoe: {experts: 3, expert: \(expert)}
        tasks:
          y1: {head: [{dense: 1}], loss: mse}
          y2: {head: [{dense: 1}], loss: mse}
        train: {optimizer: adam, batch_size: 5, epochs: 1}
        """
    }

    func testFusedExpertsMatchSeparateOnesAndFiniteDifferences() throws {
        let fusedSpec = try ModelFile.parse(model(expert: "[{dense: 4}, gelu]"), fileName: "m.yaml", baseDirectory: nil)
        let separateSpec = try ModelFile.parse(model(expert: "[{dense: 4}, gelu, {dropout: 0.0}]"), fileName: "m.yaml",
                                               baseDirectory: nil)
        let fused = try ModelGraph.build(fusedSpec, batchSize: 5), separate = try ModelGraph.build(separateSpec, batchSize: 5)
        XCTAssertFalse(fused.graph.nodes.contains { $0.op == .dropout(0) })
        XCTAssertLessThan(fused.graph.nodes.filter { $0.op == .matmul(transposeA: false, transposeB: true) }.count,
                          separate.graph.nodes.filter { $0.op == .matmul(transposeA: false, transposeB: true) }.count,
                          "the experts' products are one")
        let initial = ParameterInitializer.initialValues(for: fused.graph, seed: 3)
        XCTAssertEqual(initial, ParameterInitializer.initialValues(for: separate.graph, seed: 3),
                       "the same parameters, names and initial values")
        var backends: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        var random = TestRandom(seed: 8)
        let features = random.floats(5 * 6), labels = [random.floats(5), random.floats(5)]
        for backend in backends {
            var results: [(loss: Float, gradients: [String: [Float]])] = []
            for model in [fused, separate] {
                let store = try ParameterStore(graph: model.graph, backend: backend)
                try store.load(initial)
                let joint = try model.graph.binary(.add, model.tasks[0].loss, model.tasks[1].loss)
                let executor = try Executor(graph: model.graph, backend: backend, parameters: store,
                                            outputs: [joint] + Array(model.gradients.values), mode: .training)
                try executor.setInput(ModelGraph.inputName, features)
                for (t, task) in model.tasks.enumerated() {
                    try executor.setInput(task.labelsInput, labels[t])
                    try executor.setInput(task.maskInput, [1, 1, 1, 1, 1])
                    try executor.setInput(task.weightInput, [1])
                }
                let gradients = try checkParameterGradients(executor: executor, store: store, loss: joint,
                                                            gradients: model.gradients, initial: initial,
                                                            label: "experts on \(backend.name)")
                try executor.run()
                results.append((try executor.read(joint)[0], gradients))
            }
            XCTAssertEqual(results[0].loss, results[1].loss, accuracy: 1e-6 * max(1, abs(results[1].loss)))
            for (name, values) in results[1].gradients {
                for (a, b) in zip(results[0].gradients[name]!, values) {
                    XCTAssertEqual(a, b, accuracy: 1e-5 + 1e-4 * abs(b), "\(name) on \(backend.name)")
                }
            }
        }
    }
}
