import Canopy
import Foundation
import CanopyTestSupport
import XCTest

/// Domain-adversarial training with `gradient_reversal`: the domain task's gradient reaches the shared trunk exactly
/// negated, and in a short run the trunk defeats a domain head behind the reversal (which a plain domain head
/// reads almost perfectly) while the main task learns as well either way — on the CPU and on OpenCL.
final class GradientReversalTrainingTests: XCTestCase {
    /// Four inputs: the main label is `a + b > 0`; the third input reveals the domain (±1 plus noise); the fourth
    /// is noise. Seeded, so every run sees the same rows.
    static func data() throws -> ModelData {
        var random = TestRandom(seed: 11)
        func dataset(rows: Int) throws -> Dataset {
            var features: [Float] = [], main: [Float] = [], domain: [Float] = []
            for row in 0..<rows {
                let a = random.float(in: -1...1), b = random.float(in: -1...1), d = Float(row % 2)
                features += [a, b, (2 * d - 1) + 0.3 * random.float(in: -1...1), random.float(in: -1...1)]
                main.append(a + b > 0 ? 1 : 0)
                domain.append(d)
            }
            return try Dataset(rowCount: rows, featureCount: 4, features: features, featureNames: ["a", "b", "d", "n"],
                               labels: ["main": LabelColumn(values: main), "domain": LabelColumn(values: domain)])
        }
        return ModelData(train: try dataset(rows: 512), validation: try dataset(rows: 256))
    }

    /// The model, with the domain head reading the trunk through `gradient_reversal: λ` or directly.
    static func spec(reversal: Bool) throws -> ModelSpec {
        let domainHead = reversal ? "[{gradient_reversal: 1.0}, {dense: 2}]"
                                  : "[{dense: 2}]"
        return try ModelFile.parse("""
            name: adversarial
            data: {source: builtin:digits}
            input: {shape: [4]}
            shared: [{dense: 8}, tanh]
            tasks:
              main: {head: [{dense: 2}], loss: cross_entropy, metrics: [accuracy]}
              domain: {head: \(domainHead), loss: cross_entropy, metrics: [accuracy]}
            train: {optimizer: {adam: {lr: 0.01}}, batch_size: 32, epochs: 12, seed: 4, shuffle: true}
            """, fileName: "adversarial.yaml", baseDirectory: nil)
    }

    /// A short adversarial run: the main task learns as well as without the reversal, and the domain head
    /// behind the reversal ends far from the plain domain head's near-perfect accuracy (the trunk works against
    /// it); the CPU and OpenCL agree.
    ///
    /// Not asserted: that a fresh probe can no longer read the domain from the trunk's features. In runs this
    /// small the trunk mostly learns to mislead the current domain head (accuracy below chance) rather than to
    /// erase the domain, and a linear probe fitted to the trained features afterwards still reads it (tried: 0.64–1.0
    /// validation accuracy across optimizers, λ and 12–60 epochs); ``testTheDomainGradientReachesTheTrunkReversed()``
    /// checks the mechanics exactly instead.
    func testTheMainTaskLearnsWhileTheReversedDomainHeadIsDefeated() throws {
        let data = try Self.data()
        let plain = try Trainer(spec: try Self.spec(reversal: false), backend: CPUBackend(), data: data).train()
        let reversed = try Trainer(spec: try Self.spec(reversal: true), backend: CPUBackend(), data: data).train()
        func accuracy(_ scores: [TaskScore], _ task: Int) -> Double { scores[task].metric("accuracy")! }
        let (p, r) = (plain.last!.validation, reversed.last!.validation)
        print("without reversal: main \(accuracy(p, 0)), domain \(accuracy(p, 1))")
        print("with reversal: main \(accuracy(r, 0)), domain \(accuracy(r, 1))")
        XCTAssertGreaterThan(accuracy(p, 1), 0.95, "the domain is in the inputs")
        XCTAssertLessThan(accuracy(r, 1), 0.8, "the reversed trunk should work against the domain head")
        XCTAssertGreaterThan(accuracy(p, 0), 0.9)
        XCTAssertGreaterThan(accuracy(r, 0), 0.9, "the main task should learn despite the adversary")

        let (openCL, reason) = TestModels.openCL()
        guard let openCL else { throw XCTSkip(reason) }
        let gpu = try Trainer(spec: try Self.spec(reversal: true), backend: openCL, data: data).train(epochs: 2)
        for (a, b) in zip(reversed[0].train + reversed[0].validation + reversed[1].validation,
                          gpu[0].train + gpu[0].validation + gpu[1].validation) {
            XCTAssertEqual(a.loss, b.loss, accuracy: 1e-4 * max(1, abs(a.loss)), a.task)
        }
    }

    /// With equal parameters and batch, the domain task's gradient of the shared trunk is exactly −λ (λ = 1) times
    /// the plain model's, its head's gradient and the main task's gradients are unchanged, on both backends.
    func testTheDomainGradientReachesTheTrunkReversed() throws {
        var backends: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        let data = try Self.data()
        for backend in backends {
            func gradients(reversal: Bool, parameters: [String: [Float]]?) throws -> ([[String: [Float]]], [String: [Float]]) {
                let model = try ModelGraph.build(try Self.spec(reversal: reversal), batchSize: 8)
                let store = try ParameterStore(graph: model.graph, backend: backend)
                try store.load(parameters ?? ParameterInitializer.initialValues(for: model.graph, seed: 3))
                let outputs = model.taskGradients.flatMap { Array($0.values) }
                let executor = try Executor(graph: model.graph, backend: backend, parameters: store, outputs: outputs,
                                            mode: .training)
                try executor.setInput(ModelGraph.inputName, Array(data.train.features.prefix(8 * 4)))
                for task in model.tasks {
                    try executor.setInput(task.labelsInput, Array(data.train.labels[task.spec.name]!.values.prefix(8)))
                    try executor.setInput(task.maskInput, [Float](repeating: 1, count: 8))
                    try executor.setInput(task.weightInput, [1])
                }
                try executor.run()
                let found = try model.taskGradients.map { try $0.mapValues { try executor.read($0) } }
                return (found, try store.snapshot())
            }
            let (plain, values) = try gradients(reversal: false, parameters: nil)
            var renamed: [String: [Float]] = [:]
            for (name, value) in values {
                renamed[name.replacingOccurrences(of: "tasks.domain.head.0.", with: "tasks.domain.head.1.")] = value
            }
            let (reversed, _) = try gradients(reversal: true, parameters: renamed)
            XCTAssertEqual(reversed[0], plain[0], "the main task's gradients")
            for name in ["shared.0.weight", "shared.0.bias"] {
                XCTAssertEqual(reversed[1][name], plain[1][name]!.map { -$0 }, name)
                XCTAssertGreaterThan(plain[1][name]!.map(abs).max()!, 1e-4, name)
            }
            for suffix in ["weight", "bias"] {
                XCTAssertEqual(reversed[1]["tasks.domain.head.1.\(suffix)"], plain[1]["tasks.domain.head.0.\(suffix)"])
            }
        }
    }
}
