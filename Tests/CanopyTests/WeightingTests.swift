import Canopy
import Foundation
import XCTest

/// Task weighting methods train on both backends, move their weights, and per-task gradients add up.
final class WeightingTests: XCTestCase {
    private func spec(_ weighting: WeightingSpec, epochs: Int = 2) -> ModelSpec {
        var spec = TestModels.digitsMLP(epochs: epochs)
        spec.train.weighting = weighting
        return spec
    }

    func testEveryWeightingMethodTrainsOnBothBackends() throws {
        let methods: [WeightingSpec] = [.fixed, .uncertainty, .gradNorm(alpha: 1.5, learningRate: 0.025),
                                        .dynamicWeightAverage(temperature: 2), .pcGrad, .mgda]
        var backends: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        for backend in backends {
            for method in methods {
                let reports = try Trainer(spec: spec(method, epochs: 3), backend: backend).train()
                let digit = reports.last!.validation[0]
                print("\(backend.name) \(method.keyword): digit accuracy \(digit.metric("accuracy")!), weights \(reports.map(\.weights))")
                XCTAssertGreaterThan(digit.metric("accuracy")!, 0.6, "\(method.keyword) on \(backend.name)")
                switch method {
                case .fixed, .pcGrad:
                    XCTAssertEqual(reports.last!.weights, [1, 0.5, 1])
                case .dynamicWeightAverage:
                    XCTAssertEqual(reports[0].weights, [1, 1, 1])
                    XCTAssertNotEqual(reports[2].weights, [1, 1, 1])
                    XCTAssertEqual(reports[2].weights.reduce(0, +), 3, accuracy: 1e-9)
                case .gradNorm, .mgda:
                    XCTAssertEqual(reports.last!.weights.reduce(0, +), 3, accuracy: 1e-6)
                    XCTAssertNotEqual(reports.last!.weights, [1, 1, 1])
                case .uncertainty:
                    XCTAssertNotEqual(reports.last!.weights, [1, 1, 1])
                }
            }
        }
    }

    /// Every method resumes bit for bit from a checkpoint laid out as Canopy wrote them before each method had its
    /// own type (every method saved weights, log-variances, the scalar Adam and the epoch losses).
    func testEveryMethodResumesExactlyFromACheckpointWithEveryMethodsTensors() throws {
        for method in [WeightingSpec.fixed, .uncertainty, .gradNorm(alpha: 1.5, learningRate: 0.025),
                       .dynamicWeightAverage(temperature: 2), .pcGrad, .mgda] {
            let spec = spec(method, epochs: 3)
            let straight = try Trainer(spec: spec, backend: CPUBackend()).train()
            let first = try Trainer(spec: spec, backend: CPUBackend())
            let reports = try first.train(epochs: 2)
            var checkpoint = try first.checkpoint()
            let legacy: [(String, [Float])] = [
                ("weighting.log_variances", DoubleBits.encode([0, 0, 0])),
                ("weighting.adam", ScalarAdam(count: 3, learningRate: 0.003).state),
                ("weighting.epoch_losses.0", DoubleBits.encode(reports[0].train.map(\.loss))),
                ("weighting.epoch_losses.1", DoubleBits.encode(reports[1].train.map(\.loss))),
            ]
            for (name, values) in legacy where !checkpoint.extraState.contains(where: { $0.name == name }) {
                checkpoint.extraState.append((name: name, shape: [values.count], values: values))
            }
            let resumed = try Trainer(spec: spec, backend: CPUBackend())
            try resumed.restore(checkpoint)
            let rest = try resumed.train()
            XCTAssertEqual(rest.map(\.train), [straight[2].train], method.keyword)
            XCTAssertEqual(rest.map(\.weights), [straight[2].weights], method.keyword)
        }
    }

    /// Without penalties, the joint gradient of Σ w_t·L_t is the sum of the per-task gradients.
    func testPerTaskGradientsSumToTheJointGradient() throws {
        let spec = TestModels.digitsMLP()
        let model = try ModelGraph.build(spec, batchSize: 16, training: true)
        let backend = CPUBackend()
        let store = try ParameterStore(graph: model.graph, backend: backend)
        try store.load(ParameterInitializer.initialValues(for: model.graph, seed: 5))
        let outputs = Array(model.gradients.values) + model.taskGradients.flatMap(\.values)
        let executor = try Executor(graph: model.graph, backend: backend, parameters: store, outputs: outputs, mode: .training)
        let data = try ModelData.load(for: spec)
        let batcher = try Batcher(dataset: data.train, batchSize: 16, labelColumns: model.tasks.map(\.spec.label),
                                  featureScale: spec.input.scale)
        var batch = batcher.makeBatch()
        try batcher.fill(&batch, index: 0)
        try executor.setInput(ModelGraph.inputName, batch.features)
        for (t, task) in model.tasks.enumerated() {
            try executor.setInput(task.labelsInput, batch.labels[t])
            try executor.setInput(task.maskInput, batch.masks[t])
            try executor.setInput(task.weightInput, [Float(t + 1) / 2])
        }
        try executor.run(seed: 9)
        XCTAssertEqual(model.sharedParameters, ["shared.0.weight", "shared.0.bias"])
        for (name, joint) in model.gradients {
            let total = try model.taskGradients.compactMap { $0[name] }.map { try executor.read($0) }
                .reduce(into: [Float](repeating: 0, count: store.count(named: name))) { sum, g in for i in sum.indices { sum[i] += g[i] } }
            let difference = zip(try executor.read(joint), total).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(difference, 1e-5, name)
        }
    }
}
