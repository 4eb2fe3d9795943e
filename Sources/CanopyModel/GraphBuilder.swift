import CanopyCore

/// The graph of one task inside a ``ModelGraph``: where its prediction, loss and data inputs are.
public struct TaskGraph {
    /// The task as the model file describes it.
    public let spec: TaskSpec
    /// The head's output: logits for classification, predictions for regression. Shape [batch, width].
    public let output: Value
    /// Softmax probabilities [batch, classes] (cross-entropy tasks only).
    public let probabilities: Value?
    /// The task's loss: the mean over labelled rows of the batch, shape [1].
    public let loss: Value
    /// How many rows of the batch had a label for this task, shape [1].
    public let labelledCount: Value
    /// Input names the trainer fills each step: labels ([batch] class indices, or [batch, width] targets),
    /// mask ([batch], 1 where the row has a label) and weight ([1], the task's weight in the total loss).
    public let labelsInput: String, maskInput: String, weightInput: String
    /// The output width (classes for cross-entropy).
    public var width: Int { spec.head.isEmpty ? 0 : outputShape[1] }
    /// The head output's shape, [batch, width].
    public let outputShape: [Int]
}

/// A penalty term added to the training loss (soft sharing's L2 tie between corresponding parameters).
public struct PenaltyGraph {
    /// `penalty.l2.<parameter>` for the tie of that tower parameter across tasks.
    public let name: String
    /// The penalty's value divided by its seed, shape [1].
    public let loss: Value
    /// The constant input holding the seed (the penalty's weight times the element count).
    public let seedInput: String
}

/// A model spec turned into a static graph for one batch size: forward pass, per-task losses and, for training,
/// the backward pass giving every parameter's gradient of `Σ_t weight_t · loss_t + penalties`, and each task's
/// own gradients (for PCGrad, GradNorm, MGDA-UB and gradient-conflict diagnostics; planned only when asked for).
///
/// Parameters are named by where they are written: `shared.<i>.weight|bias` for the stem, `experts.<e>.<i>`,
/// `gates.<task>` (or `gates.all`), `columns.<task>.<i>`, `cross_stitch.<i>.alpha`, `towers.<task>.<i>`,
/// `graph.<node>`, `gating.<task>`, then `tasks.<task>.head.<i>` (`<i>` is the layer's index in its list; a layer
/// inside a `residual:` block at `<i>` adds its own index: `shared.2.0.weight`).
/// Dense weights are [out, in] and convolution weights [F, C, K, K], as PyTorch lays them out.
public struct ModelGraph {
    /// The model file this graph was built from.
    public let spec: ModelSpec
    /// The static graph: forward pass, losses and, when built for training, the backward pass.
    public let graph: Graph
    /// The examples per step.
    public let batchSize: Int
    /// The name of the input holding a batch of examples, shape [batch] + input shape.
    public static let inputName = "input"
    /// The name of the input marking a batch's real rows, shape [batch] (1 real, 0 padding), which layers whose
    /// outputs depend on the whole batch (batch normalization) read so that padding does not count.
    public static let realRowsInputName = "batch.real_rows"
    /// The input value.
    public let input: Value
    /// The output of the `shared:` stem.
    public let sharedOutput: Value
    /// The representation every task reads before its own parameters (hard sharing: the stem's output;
    /// MMoE: the stacked expert outputs), or nil when the scheme has none (cross-stitch, soft sharing).
    public let sharedRepresentation: Value?
    /// One entry per task, in the spec's order.
    public let tasks: [TaskGraph]
    /// Soft-sharing penalties (empty otherwise).
    public let penalties: [PenaltyGraph]
    /// Inputs whose values never change (ones, penalty seeds), by name: upload once per executor.
    public let constants: [String: [Float]]
    /// Groups of corresponding per-task parameters (by name) that soft sharing ties; the trace-norm penalty acts
    /// on each group stacked.
    public let tiedParameters: [[String]]
    /// Names of the parameters more than one task's loss depends on, in graph order.
    public let sharedParameters: [String]
    /// Each parameter's gradient of the weighted total loss, by name (training graphs only).
    public let gradients: [String: Value]
    /// Per task, the gradient of `weight_t · loss_t` for every parameter the task reaches (training graphs only).
    public let taskGradients: [[String: Value]]
    /// Per task, the gradient of `weight_t · loss_t` with respect to ``sharedRepresentation`` (when it exists).
    public let representationGradients: [Value]
    /// Each parameter's gradient of the penalties alone (empty without penalties).
    public let penaltyGradients: [String: Value]
    /// The first node of the weighted total loss's backward pass: nodes before it are the forward pass and the
    /// per-task gradients, so an executor can run them, let the host set the task weights, then run the rest.
    public let jointBackwardStart: Int

    /// The layers as built, for `canopy check`: every row's key path, shapes and parameters, read off this graph.
    public let summary: ModelSummary

    /// Builds the graph of `spec` for batches of `batchSize` rows.
    ///
    /// Every layer is checked as it is appended (settings, input shape, ``ModelLimits``), and each head against
    /// its loss and metrics; errors are ``ModelFileError``s placed at the layer. The spec's other rules (names,
    /// references, options) are ``summarize(_:)``'s: build a spec that has passed it.
    public static func build(_ spec: ModelSpec, batchSize: Int, training: Bool = true) throws -> ModelGraph {
        guard batchSize >= 1 else { throw GraphError("batch size must be at least 1, got \(batchSize)") }
        let graph = Graph()
        let builder = ModelBuilder(spec: spec, graph: graph)
        let input = graph.input(inputName, shape: [batchSize] + spec.input.shape)
        var stemRows = RowLog()
        let stem = try builder.appendLayers(spec.shared, to: input, prefix: "shared", rows: &stemRows)
        let scheme = try builder.appendScheme(stem: stem)
        var tasks: [TaskGraph] = []
        var taskRows: [ModelSummary.Task] = []
        for (t, task) in spec.tasks.enumerated() {
            var rows = RowLog()
            let output = try builder.appendLayers(task.head, to: scheme.taskInputs[t], prefix: "tasks.\(task.name).head",
                                                  rows: &rows)
            let outputShape = graph.shape(of: output)
            try SpecRules(spec: spec).checkHead(task, output: Array(outputShape.dropFirst()))
            guard outputShape.count == 2 else {
                throw GraphError("\(task.keyPath): the head's output must be flat [width], got \(Array(outputShape.dropFirst()))")
            }
            tasks.append(try appendLoss(task, output: output, in: graph))
            taskRows.append(ModelSummary.Task(name: task.name, inputShape: builder.shape(of: scheme.taskInputs[t]),
                                              rows: rows.rows, outputShape: builder.shape(of: output)))
        }
        var summary = ModelSummary(name: spec.name, inputShape: spec.input.shape, shared: stemRows.rows,
                                   sharedOutputShape: builder.shape(of: stem), scheme: spec.scheme.keyword,
                                   sections: scheme.sections, tasks: taskRows,
                                   parameters: graph.parameters.map { .init(name: graph.name(of: $0)!, count: graph.count(of: $0),
                                                                                trainable: graph.isTrainable($0)) })
        if case .mixtureOfExperts(let moe) = spec.scheme, moe.gates == .one { summary.hasSharedGate = true }
        var constants: [String: [Float]] = [:]
        let penalties = try appendPenalties(spec, tied: scheme.tiedParameters, constants: &constants, in: graph)
        let tied = scheme.tiedParameters.map { $0.map { graph.name(of: $0)! } }

        let seeds = tasks.map { (loss: $0.loss, seed: graph.input($0.weightInput, shape: [1])) }
        var taskGradients: [[String: Value]] = []
        var representationGradients: [Value] = []
        var gradients: [String: Value] = [:], penaltyGradients: [String: Value] = [:]
        if training {
            let targets = graph.trainableParameters + (scheme.sharedRepresentation.map { [$0] } ?? [])
            for seed in seeds {
                let found = try Autodiff.gradients(of: [seed], withRespectTo: targets, in: graph)
                taskGradients.append(named(found, in: graph))
                if let z = scheme.sharedRepresentation, let dz = found[z] { representationGradients.append(dz) }
            }
            if !penalties.isEmpty {
                let penaltySeeds = penalties.map { (loss: $0.loss, seed: graph.input($0.seedInput, shape: [1])) }
                penaltyGradients = named(try Autodiff.gradients(of: penaltySeeds, withRespectTo: graph.trainableParameters, in: graph), in: graph)
            }
        }
        let jointBackwardStart = graph.nodes.count
        if training {
            let all = seeds + penalties.map { (loss: $0.loss, seed: graph.input($0.seedInput, shape: [1])) }
            gradients = named(try Autodiff.gradients(of: all, withRespectTo: graph.trainableParameters, in: graph), in: graph)
        }
        let reached = tasks.map { parametersReaching($0.loss, in: graph) }
        let shared = graph.trainableParameters.compactMap(graph.name(of:)).filter { name in reached.filter { $0.contains(name) }.count > 1 }
        return ModelGraph(spec: spec, graph: graph, batchSize: batchSize, input: input, sharedOutput: stem,
                          sharedRepresentation: scheme.sharedRepresentation, tasks: tasks, penalties: penalties,
                          constants: constants, tiedParameters: tied, sharedParameters: shared, gradients: gradients,
                          taskGradients: taskGradients, representationGradients: representationGradients,
                          penaltyGradients: penaltyGradients, jointBackwardStart: jointBackwardStart, summary: summary)
    }

    /// Uploads the constant inputs an executor reads.
    public func uploadConstants(to executor: Executor) throws {
        let names = Set(executor.inputNames)
        for (name, values) in constants where names.contains(name) { try executor.setInput(name, values) }
    }

    /// Sets the factor input of every gradient-reversal schedule the executor reads (see ``ReversalSchedule``)
    /// to its value at training progress `p` ∈ [0, 1]. A graph whose reversals are all constant has none.
    public func uploadReversalFactors(progress p: Double, to executor: Executor) throws {
        let names = Set(executor.inputNames)
        for schedule in ReversalSchedule.allCases {
            guard let name = schedule.factorInput, names.contains(name) else { continue }
            try executor.setInput(name, [schedule.factor(atProgress: p)])
        }
    }

    private static func named(_ gradients: [Value: Value], in graph: Graph) -> [String: Value] {
        var result: [String: Value] = [:]
        for (parameter, gradient) in gradients { if let name = graph.name(of: parameter) { result[name] = gradient } }
        return result
    }

    /// The names of the parameters `value` depends on.
    private static func parametersReaching(_ value: Value, in graph: Graph) -> Set<String> {
        var marks = [Bool](repeating: false, count: graph.nodes.count)
        marks[value.node] = true
        var names = Set<String>()
        for index in stride(from: value.node, through: 0, by: -1) where marks[index] {
            if case let .parameter(name, _) = graph.nodes[index].op { names.insert(name) }
            for input in graph.nodes[index].inputs { marks[input.node] = true }
        }
        return names
    }

    /// Soft sharing's L2 ties: for each group of corresponding tower parameters and each pair of tasks,
    /// `l2·‖P_a − P_b‖²`, written as a masked mean squared error (mean over K elements) seeded with `l2·K`.
    private static func appendPenalties(_ spec: ModelSpec, tied: [[Value]], constants: inout [String: [Float]],
                                        in graph: Graph) throws -> [PenaltyGraph] {
        guard case let .soft(soft) = spec.scheme, soft.l2 > 0 else { return [] }
        let one = graph.input("constant.one", shape: [1])
        constants["constant.one"] = [1]
        var penalties: [PenaltyGraph] = []
        for group in tied {
            for a in group.indices {
                for b in group.indices where b > a {
                    let count = graph.count(of: group[a])
                    let name = "penalty.l2.\(graph.name(of: group[a])!)~\(graph.name(of: group[b])!)"
                    let rowLoss = try graph.meanSquaredError(predictions: try graph.reshape(group[a], to: [1, count]),
                                                             targets: try graph.reshape(group[b], to: [1, count]),
                                                             mask: one, label: name)
                    let loss = try graph.maskedMean(rowLoss, mask: one, label: name).loss
                    constants[name + ".seed"] = [soft.l2 * Float(count)]
                    penalties.append(PenaltyGraph(name: name, loss: loss, seedInput: name + ".seed"))
                }
            }
        }
        return penalties
    }

    private static func appendLoss(_ task: TaskSpec, output: Value, in graph: Graph) throws -> TaskGraph {
        let shape = graph.shape(of: output)
        let batch = shape[0]
        let labelsName = "labels.\(task.name)", maskName = "mask.\(task.name)", weightName = "weight.\(task.name)"
        let mask = graph.input(maskName, shape: [batch])
        let rowLoss: Value
        var probabilities: Value?
        switch task.loss {
        case .crossEntropy:
            let labels = graph.input(labelsName, shape: [batch])
            let fused = try graph.softmaxCrossEntropy(logits: output, labels: labels, mask: mask, label: task.keyPath)
            rowLoss = fused.rowLoss
            probabilities = fused.probabilities
        case .binaryCrossEntropy:
            let targets = graph.input(labelsName, shape: shape)
            rowLoss = try graph.binaryCrossEntropy(logits: output, targets: targets, mask: mask,
                                                   posWeight: task.lossSettings.positiveWeight, label: task.keyPath)
        case .mse, .huber, .l1:
            let targets = graph.input(labelsName, shape: shape)
            rowLoss = try graph.regressionLoss(task.regressionLoss, predictions: output, targets: targets, mask: mask,
                                               label: task.keyPath)
        }
        let mean = try graph.maskedMean(rowLoss, mask: mask, label: "\(task.keyPath).loss")
        return TaskGraph(spec: task, output: output, probabilities: probabilities, loss: mean.loss,
                         labelledCount: mean.count, labelsInput: labelsName, maskInput: maskName,
                         weightInput: weightName, outputShape: shape)
    }
}
