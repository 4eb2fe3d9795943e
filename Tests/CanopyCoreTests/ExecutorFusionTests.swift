import CanopyCore
import CanopyCPU
import XCTest

/// The executor's epilogue fusion: `matmul → biasAdd → f` runs as one ``Kernel/matmulBias(a:b:bias:c:shape:activation:)``
/// where nothing else reads the intermediates, with the same bits as the unfused plan, and not where something does.
final class ExecutorFusionTests: XCTestCase {
    private let backend = CPUBackend(threads: 2)

    /// A dense layer's parameters and its `x·Wᵀ + b`.
    private func dense(_ g: Graph, _ x: Value, _ name: String, inputs: Int, units: Int) throws -> Value {
        let w = g.parameter("\(name).weight", shape: [units, inputs], initializer: .heUniform(fanIn: inputs))
        let b = g.parameter("\(name).bias", shape: [units], initializer: .uniform(bound: 0.5))
        return try g.biasAdd(try g.matmul(x, w, transposeB: true), b)
    }

    /// The fused kernels of a plan: (activation or "identity") per matmulBias call, in order.
    private func fusedActivations(_ executor: Executor) -> [String] {
        executor.plannedKernels.compactMap { planned in
            guard case let .fixed(.matmulBias(_, _, _, _, _, activation)) = planned else { return nil }
            return activation?.rawValue ?? "identity"
        }
    }

    private func names(_ executor: Executor) -> [String] { executor.plannedKernels.map(\.preparedKernel.name) }

    /// A store of `g`'s parameters holding values in [-1, 1] (a new store is all zeros).
    private func randomStore(_ g: Graph) throws -> ParameterStore {
        let store = try ParameterStore(graph: g, backend: backend)
        var values: [String: [Float]] = [:]
        for (offset, name) in store.names.enumerated() {
            values[name] = (0..<store.count(named: name)).map { Float(($0 * 37 + offset * 11) % 41) / 20 - 1 }
        }
        try store.load(values)
        return store
    }

    /// Runs both plans on the same inputs and returns each output's values, fused first.
    private func runBoth(_ g: Graph, outputs: [Value], mode: Executor.Mode, store: ParameterStore,
                         inputs: [String: [Float]]) throws -> (fused: Executor, plain: Executor, values: [([Float], [Float])]) {
        let fused = try Executor(graph: g, backend: backend, parameters: store, outputs: outputs, mode: mode)
        let plain = try Executor(graph: g, backend: backend, parameters: store, outputs: outputs, mode: mode, fusing: false)
        for executor in [fused, plain] {
            for (name, values) in inputs where executor.hasInput(name) { try executor.setInput(name, values) }
            try executor.run(seed: 7)
        }
        return (fused, plain, try outputs.map { (try fused.read($0), try plain.read($0)) })
    }

    /// A two-layer classifier's loss and gradients: both dense layers fuse (relu, and the logits without an
    /// activation), the forward bias and relu kernels are gone, fewer elements are planned, and every output has
    /// the unfused plan's bits.
    func testTrainingPlanFusesDenseLayersWithTheSameBits() throws {
        let g = Graph()
        let x = g.input("x", shape: [9, 13])
        let hidden = g.unary(.relu, try dense(g, x, "hidden", inputs: 13, units: 33))
        let logits = try dense(g, hidden, "out", inputs: 33, units: 7)
        let labels = g.input("labels", shape: [9]), mask = g.input("mask", shape: [9])
        let row = try g.softmaxCrossEntropy(logits: logits, labels: labels, mask: mask).rowLoss
        let loss = try g.maskedMean(row, mask: mask).loss
        let gradients = try Autodiff.gradients(of: [(loss, g.input("seed", shape: [1]))],
                                               withRespectTo: g.trainableParameters, in: g)
        let store = try ParameterStore(graph: g, backend: backend)
        var random = SystemRandomNumberGenerator()
        let inputs: [String: [Float]] = ["x": (0..<117).map { _ in Float.random(in: -2...2, using: &random) },
                                         "labels": (0..<9).map { Float($0 % 7) }, "mask": [Float](repeating: 1, count: 9),
                                         "seed": [1]]
        let run = try runBoth(g, outputs: [loss] + g.trainableParameters.map { gradients[$0]! }, mode: .training,
                              store: store, inputs: inputs)
        XCTAssertEqual(fusedActivations(run.fused), ["relu", "identity"])
        XCTAssertFalse(names(run.fused).contains("biasAdd"))
        XCTAssertFalse(names(run.fused).contains("unary.relu"))
        XCTAssertEqual(names(run.plain).filter { $0 == "biasAdd" }.count, 2)
        // Backward: the hidden layer's relu derivative and bias gradient are one call (the logits' bias gradient
        // sums the loss's gradient, which no derivative computes).
        XCTAssertEqual(names(run.fused).filter { $0.hasPrefix("unaryBackwardBiasGradient") }, ["unaryBackwardBiasGradient.relu"])
        XCTAssertEqual(names(run.fused).filter { $0 == "biasGradient" }.count, 1)
        XCTAssertLessThanOrEqual(run.fused.intermediateElementCount, run.plain.intermediateElementCount)
        for (fused, plain) in run.values { XCTAssertEqual(fused.map(\.bitPattern), plain.map(\.bitPattern)) }
        XCTAssertTrue(run.values[0].0[0].isFinite)
    }

    /// What stops a fusion: a biased value the plan must return keeps its activation apart; gelu's derivative
    /// reads the biased value, so gelu stays apart in training; a product read twice is not fused at all. sigmoid
    /// and tanh (derivatives from their outputs) fuse.
    func testValuesReadElsewhereAreNotFusedAway() throws {
        let g = Graph()
        let x = g.input("x", shape: [5, 7])
        let first = try dense(g, x, "first", inputs: 7, units: 6)
        let a = g.unary(.sigmoid, first)
        let b = g.unary(.gelu, try dense(g, a, "second", inputs: 6, units: 6))
        let product = try g.matmul(b, g.parameter("w", shape: [6, 6], initializer: .heUniform(fanIn: 6)))
        let twice = try g.binary(.add, try g.biasAdd(product, g.parameter("c", shape: [6], initializer: .zeros)), product)
        let t = g.unary(.tanh, try dense(g, twice, "third", inputs: 6, units: 3))
        let loss = try g.maskedMean(try g.reshape(t, to: [15]), mask: g.input("mask", shape: [15])).loss
        let gradients = try Autodiff.gradients(of: [(loss, g.input("seed", shape: [1]))],
                                               withRespectTo: g.trainableParameters, in: g)
        let store = try ParameterStore(graph: g, backend: backend)
        let inputs: [String: [Float]] = ["x": (0..<35).map { Float($0 % 11) / 5 - 1 }, "mask": .init(repeating: 1, count: 15),
                                         "seed": [1]]
        let training = try runBoth(g, outputs: [loss] + g.trainableParameters.map { gradients[$0]! }, mode: .training,
                                   store: store, inputs: inputs)
        XCTAssertEqual(fusedActivations(training.fused), ["sigmoid", "identity", "tanh"])
        for (fused, plain) in training.values { XCTAssertEqual(fused.map(\.bitPattern), plain.map(\.bitPattern)) }

        let inference = try runBoth(g, outputs: [t, first], mode: .inference, store: store, inputs: inputs)
        XCTAssertEqual(fusedActivations(inference.fused), ["identity", "gelu", "tanh"], "first is an output")
        for (fused, plain) in inference.values { XCTAssertEqual(fused.map(\.bitPattern), plain.map(\.bitPattern)) }
    }

    /// A convolution layer (`conv2d → biasAdd → relu`) runs as one conv2dBias, in training with the same loss and
    /// gradients, bit for bit, as the unfused plan.
    func testConvolutionLayersFuseWithTheSameBits() throws {
        let g = Graph()
        let x = g.input("x", shape: [3, 2, 9, 9])
        let w = g.parameter("conv.weight", shape: [5, 2, 3, 3], initializer: .heUniform(fanIn: 18))
        let b = g.parameter("conv.bias", shape: [5], initializer: .uniform(bound: 0.5))
        let h = g.unary(.relu, try g.biasAdd(try g.conv2d(x, w, stride: 2, padding: 1), b))
        let pooled = try g.maxPool(h, kernel: 2, stride: 2)
        let loss = try g.maskedMean(try g.reshape(pooled, to: [3 * 5 * 2 * 2]), mask: g.input("mask", shape: [60])).loss
        let gradients = try Autodiff.gradients(of: [(loss, g.input("seed", shape: [1]))],
                                               withRespectTo: g.trainableParameters, in: g)
        let store = try ParameterStore(graph: g, backend: backend)
        let inputs: [String: [Float]] = ["x": (0..<486).map { Float($0 % 13) / 6 - 1 }, "mask": .init(repeating: 1, count: 60),
                                         "seed": [1]]
        let run = try runBoth(g, outputs: [loss] + g.trainableParameters.map { gradients[$0]! }, mode: .training,
                              store: store, inputs: inputs)
        let fusedConvolutions = run.fused.plannedKernels.compactMap { planned -> String? in
            guard case let .fixed(.conv2dBias(_, _, _, _, _, activation)) = planned else { return nil }
            return activation?.rawValue
        }
        XCTAssertEqual(fusedConvolutions, ["relu"])
        XCTAssertFalse(names(run.fused).contains("conv2d"))
        for (fused, plain) in run.values { XCTAssertEqual(fused.map(\.bitPattern), plain.map(\.bitPattern)) }
    }

    /// Stacked experts build their bias stack between the product and the bias add. The fused call reads the
    /// product's operands at the activation's node, so they must stay live until then: here the bias stack has
    /// the operand's size and would take over its buffer if the operand were released at the product's node.
    func testOperandsLiveUntilTheFusedCall() throws {
        let g = Graph()
        let x = g.input("x", shape: [4, 6])
        let h = g.unary(.tanh, x)   // an intermediate operand [4, 6]: 24 floats
        let weights = (0..<2).map { g.parameter("w\($0)", shape: [12, 6], initializer: .heUniform(fanIn: 6)) }
        let biases = (0..<2).map { g.parameter("b\($0)", shape: [12], initializer: .uniform(bound: 1)) }
        let product = try g.matmul(h, try g.concat(weights, axis: 0), transposeB: true)
        let stack = try g.binary(.add, try g.concat(biases, axis: 0), try g.reshape(x, to: [24]))   // 24 floats
        let y = g.unary(.relu, try g.biasAdd(product, stack))
        let store = try ParameterStore(graph: g, backend: backend)
        let run = try runBoth(g, outputs: [y], mode: .inference, store: store,
                              inputs: ["x": (0..<24).map { Float($0) / 8 - 1.5 }])
        XCTAssertEqual(fusedActivations(run.fused), ["relu"])
        XCTAssertEqual(run.values[0].0.map(\.bitPattern), run.values[0].1.map(\.bitPattern))
    }

    /// Two tasks' softmax gates over three experts (an MMoE): each gate's softmax runs in its mixture's call and
    /// each gates gradient in its softmax gradient's call, with the unfused plan's bits. A gate that something else
    /// reads before its mixture (a loss on the second gate itself, built first) keeps its softmax apart, and its
    /// gates gradient, then a sum of two, too.
    func testSoftmaxGatesRunInTheirMixturesWithTheSameBits() throws {
        func plans(gateLoss: Bool) throws -> (fused: Executor, plain: Executor, values: [([Float], [Float])]) {
            let g = Graph()
            let x = g.input("x", shape: [7, 5])
            let experts = try g.reshape(g.unary(.tanh, try dense(g, x, "experts", inputs: 5, units: 3 * 4)), to: [7, 3, 4])
            var pairs: [(Value, Value)] = []
            for task in 0..<2 {
                let gate = g.softmax(try dense(g, x, "gate\(task)", inputs: 5, units: 3))
                if gateLoss && task == 1 {
                    let direct = try g.maskedMean(try g.reshape(gate, to: [21]), mask: g.input("gateMask", shape: [21])).loss
                    pairs.append((direct, g.input("seed2", shape: [1])))
                }
                let mixed = try g.mixture(gates: gate, values: experts)
                let loss = try g.maskedMean(try g.reshape(mixed, to: [28]), mask: g.input("mask", shape: [28])).loss
                pairs.append((loss, g.input("seed\(task)", shape: [1])))
            }
            let gradients = try Autodiff.gradients(of: pairs, withRespectTo: g.trainableParameters, in: g)
            let store = try randomStore(g)
            let inputs: [String: [Float]] = ["x": (0..<35).map { Float($0 % 9) / 4 - 1 }, "mask": .init(repeating: 1, count: 28),
                                             "gateMask": .init(repeating: 1, count: 21), "seed0": [1], "seed1": [0.5], "seed2": [2]]
            return try runBoth(g, outputs: pairs.map(\.0) + g.trainableParameters.map { gradients[$0]! }, mode: .training,
                               store: store, inputs: inputs)
        }
        let run = try plans(gateLoss: false)
        let fusedNames = names(run.fused)
        XCTAssertEqual(fusedNames.filter { $0 == "mixtureSoftmax" }.count, 2)
        XCTAssertEqual(fusedNames.filter { $0 == "mixtureBackwardLogits" }.count, 2)
        XCTAssertFalse(fusedNames.contains { ["softmax", "softmaxBackward", "mixture", "mixtureBackwardGates"].contains($0) })
        // The experts' gradient: the second mixture's values gradient adds into the first's (no add).
        XCTAssertEqual(run.fused.plannedKernels.filter(\.accumulates).map(\.preparedKernel.name), ["mixtureBackwardValues"])
        XCTAssertFalse(fusedNames.contains("binary.add"))
        for (fused, plain) in run.values { XCTAssertEqual(fused.map(\.bitPattern), plain.map(\.bitPattern)) }
        XCTAssertTrue(run.values.allSatisfy { $0.0.allSatisfy(\.isFinite) })

        let read = try plans(gateLoss: true)
        let readNames = names(read.fused)
        XCTAssertEqual(readNames.filter { $0 == "mixtureSoftmax" }.count, 1, "the second gate is read before its mixture")
        XCTAssertEqual(readNames.filter { $0 == "softmax" }.count, 1)
        XCTAssertEqual(readNames.filter { $0 == "mixtureBackwardLogits" }.count, 1, "the second gates gradient is a sum")
        for (fused, plain) in read.values { XCTAssertEqual(fused.map(\.bitPattern), plain.map(\.bitPattern)) }
    }

    /// Three task heads on a shared trunk: the trunk's gradient is the sum of three products, which the second and
    /// third products accumulate into the first's buffer (beta 1) instead of two adds; the losses and gradients
    /// agree with the unfused plan to float rounding. A term that the plan returns is not overwritten: its sum
    /// keeps its add (and the next sum accumulates into that add's output).
    func testHeadGradientsAccumulateIntoOneBuffer() throws {
        func plans(returningTerm: Bool = false, returningSum: Bool = false) throws -> (fused: Executor, plain: Executor, values: [([Float], [Float])]) {
            let g = Graph()
            let x = g.input("x", shape: [6, 9])
            let trunk = g.unary(.tanh, try dense(g, x, "trunk", inputs: 9, units: 11))
            var pairs: [(Value, Value)] = []
            for task in 0..<3 {
                let head = try dense(g, trunk, "head\(task)", inputs: 11, units: task + 2)
                let loss = try g.maskedMean(try g.reshape(head, to: [6 * (task + 2)]),
                                            mask: g.input("mask\(task)", shape: [6 * (task + 2)])).loss
                pairs.append((loss, g.input("seed\(task)", shape: [1])))
            }
            let gradients = try Autodiff.gradients(of: pairs, withRespectTo: g.trainableParameters, in: g)
            let sums = g.nodes.indices.filter { g.nodes[$0].op == .binary(.add) }
            XCTAssertEqual(sums.count, 2, "the trunk's gradient: three terms")
            let store = try randomStore(g)
            var inputs: [String: [Float]] = ["x": (0..<54).map { Float($0 % 7) / 3 - 1 }]
            for task in 0..<3 {
                inputs["mask\(task)"] = .init(repeating: 1, count: 6 * (task + 2))
                inputs["seed\(task)"] = [Float(task + 1) / 2]
            }
            let extra = returningTerm ? [g.nodes[sums[0]].inputs[0]] : returningSum ? [Value(node: sums[0])] : []
            return try runBoth(g, outputs: pairs.map(\.0) + g.trainableParameters.map { gradients[$0]! } + extra,
                               mode: .training, store: store, inputs: inputs)
        }
        let run = try plans(returningTerm: false)
        XCTAssertFalse(names(run.fused).contains("binary.add"))
        XCTAssertEqual(names(run.plain).filter { $0 == "binary.add" }.count, 2)
        let accumulating = run.fused.plannedKernels.filter { planned in
            guard case let .fixed(.matmul(_, _, _, shape)) = planned else { return false }
            return shape.beta == 1
        }
        XCTAssertEqual(accumulating.count, 2)
        for (fused, plain) in run.values {
            XCTAssertEqual(fused.count, plain.count)
            for (a, b) in zip(fused, plain) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
        }
        // The first sum returned: the third product must not add into it (its add stays; the first sum still
        // takes the second product).
        let partial = try plans(returningSum: true)
        XCTAssertEqual(names(partial.fused).filter { $0 == "binary.add" }.count, 1, "the returned sum keeps its value")
        for (fused, plain) in partial.values {
            for (a, b) in zip(fused, plain) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
        }
        let returned = try plans(returningTerm: true)
        XCTAssertEqual(names(returned.fused).filter { $0 == "binary.add" }.count, 1, "the returned term's sum keeps its add")
        for (fused, plain) in returned.values {
            for (a, b) in zip(fused, plain) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
        }
    }
}
