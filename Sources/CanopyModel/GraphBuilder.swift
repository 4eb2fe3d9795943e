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

/// A model spec turned into a static graph for one batch size: forward pass, per-task losses and, for training,
/// the backward pass giving every parameter's gradient of `Σ_t weight_t · loss_t`.
///
/// Parameters are named by where they are written: `shared.<i>.weight`, `shared.<i>.bias`,
/// `tasks.<task>.head.<i>.weight`, `tasks.<task>.head.<i>.bias` (`<i>` is the layer's index in its list).
/// Dense weights are [out, in] and convolution weights [F, C, K, K], as PyTorch lays them out.
public struct ModelGraph {
    public let spec: ModelSpec
    public let graph: Graph
    /// The examples per step.
    public let batchSize: Int
    /// The name of the input holding a batch of examples, shape [batch] + input shape.
    public static let inputName = "input"
    /// The input value.
    public let input: Value
    /// The output of the shared trunk (the representation every task reads).
    public let sharedOutput: Value
    /// One entry per task, in the spec's order.
    public let tasks: [TaskGraph]
    /// Each parameter's gradient value, by parameter name (present after ``build(_:batchSize:training:)`` with
    /// `training: true`).
    public let gradients: [String: Value]

    /// Builds the graph of `spec` for batches of `batchSize` rows.
    public static func build(_ spec: ModelSpec, batchSize: Int, training: Bool = true) throws -> ModelGraph {
        guard batchSize >= 1 else { throw GraphError("batch size must be at least 1, got \(batchSize)") }
        let graph = Graph()
        let input = graph.input(inputName, shape: [batchSize] + spec.input.shape)
        let shared = try appendLayers(spec.shared, to: input, prefix: "shared", in: graph)
        var tasks: [TaskGraph] = []
        for task in spec.tasks {
            let prefix = "tasks.\(task.name).head"
            let output = try appendLayers(task.head, to: shared, prefix: prefix, in: graph)
            let outputShape = graph.shape(of: output)
            guard outputShape.count == 2 else {
                throw GraphError("\(task.keyPath): the head's output must be flat [width], got \(Array(outputShape.dropFirst()))")
            }
            tasks.append(try appendLoss(task, output: output, in: graph))
        }
        var gradients: [String: Value] = [:]
        if training {
            let seeds = tasks.map { (loss: $0.loss, seed: graph.input($0.weightInput, shape: [1])) }
            let found = try Autodiff.gradients(of: seeds, withRespectTo: graph.parameters, in: graph)
            for (parameter, gradient) in found { gradients[graph.name(of: parameter)!] = gradient }
        }
        return ModelGraph(spec: spec, graph: graph, batchSize: batchSize, input: input, sharedOutput: shared,
                          tasks: tasks, gradients: gradients)
    }

    /// Appends a list of layers; parameters are named `<prefix>.<index>.weight|bias`.
    static func appendLayers(_ layers: [LayerSpec], to start: Value, prefix: String, in graph: Graph) throws -> Value {
        var x = start
        for (index, layer) in layers.enumerated() {
            let name = "\(prefix).\(index)"
            let shape = graph.shape(of: x)
            do {
                switch layer.kind {
                case let .dense(units):
                    guard shape.count == 2 else {
                        throw GraphError("dense needs a flat input, got \(Array(shape.dropFirst())); add 'flatten' before it")
                    }
                    let weight = graph.parameter("\(name).weight", shape: [units, shape[1]],
                                                 initializer: .heUniform(fanIn: shape[1]))
                    let bias = graph.parameter("\(name).bias", shape: [units], initializer: .zeros)
                    x = try graph.biasAdd(try graph.matmul(x, weight, transposeB: true, label: layer.keyPath), bias,
                                          label: layer.keyPath)
                case let .conv2d(filters, kernel, stride, padding):
                    guard shape.count == 4 else {
                        throw GraphError("conv2d needs a [channels, height, width] input, got \(Array(shape.dropFirst()))")
                    }
                    let weight = graph.parameter("\(name).weight", shape: [filters, shape[1], kernel, kernel],
                                                 initializer: .heUniform(fanIn: shape[1] * kernel * kernel))
                    let bias = graph.parameter("\(name).bias", shape: [filters], initializer: .zeros)
                    x = try graph.biasAdd(try graph.conv2d(x, weight, stride: stride, padding: padding, label: layer.keyPath),
                                          bias, label: layer.keyPath)
                case let .maxPool(kernel, stride):
                    x = try graph.maxPool(x, kernel: kernel, stride: stride, label: layer.keyPath)
                case .flatten:
                    x = try graph.flatten(x, label: layer.keyPath)
                case let .activation(kind):
                    x = graph.unary(UnaryFunction(kind), x, label: layer.keyPath)
                case let .dropout(probability):
                    x = try graph.dropout(x, probability: probability, label: layer.keyPath)
                }
            } catch let error as GraphError {
                throw ModelFileError(location: layer.location, keyPath: layer.keyPath, message: error.message)
            }
        }
        return x
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
            rowLoss = try graph.binaryCrossEntropy(logits: output, targets: targets, mask: mask, label: task.keyPath)
        case .mse:
            let targets = graph.input(labelsName, shape: shape)
            rowLoss = try graph.meanSquaredError(predictions: output, targets: targets, mask: mask, label: task.keyPath)
        }
        let mean = try graph.maskedMean(rowLoss, mask: mask, label: "\(task.keyPath).loss")
        return TaskGraph(spec: task, output: output, probabilities: probabilities, loss: mean.loss,
                         labelledCount: mean.count, labelsInput: labelsName, maskInput: maskName,
                         weightInput: weightName, outputShape: shape)
    }
}

extension UnaryFunction {
    /// The kernel function of a model-file activation.
    public init(_ activation: ActivationKind) {
        switch activation {
        case .relu: self = .relu
        case .sigmoid: self = .sigmoid
        case .tanh: self = .tanh
        case .gelu: self = .gelu
        }
    }
}
