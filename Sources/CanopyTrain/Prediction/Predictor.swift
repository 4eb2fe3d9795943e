import CanopyCore
import CanopyModel
import Foundation

/// One task's prediction for one row.
public enum TaskPrediction: Equatable, Sendable {
    /// A `cross_entropy` task: the most probable class (the first one on a tie) and every class's softmax
    /// probability.
    case classes(predicted: Int, probabilities: [Float])
    /// A `binary_cross_entropy` task: class 1 when the logit is above 0, and the probability `sigmoid(logit)`
    /// of class 1.
    case binary(predicted: Int, probability: Float)
    /// An `mse` task: the predicted value.
    case value(Float)

    /// The predicted class of a classification task, `nil` for regression.
    public var predictedClass: Int? {
        switch self {
        case let .classes(predicted, _), let .binary(predicted, _): return predicted
        case .value: return nil
        }
    }
}

/// What a ``PredictionWriter`` needs to know about one task: its name, its loss and its output width.
public struct PredictedTask: Equatable, Sendable {
    /// The task's name.
    public var name: String
    /// Which kind of prediction the task makes.
    public var loss: LossKind
    /// The head's width: the class count of a `cross_entropy` task, 1 otherwise.
    public var width: Int
    /// The name of each class when the training data named them (printed instead of the index), or nil.
    public var classNames: [String]?

    /// Creates a task description; ``Predictor`` makes one from each of its model's tasks.
    public init(name: String, loss: LossKind, width: Int) {
        self.name = name
        self.loss = loss
        self.width = width
    }
}

/// Runs a trained model forward (inference mode: no dropout) over a data set and gives each row's prediction for
/// every task.
///
/// Rows go through in file order, `model.batchSize` at a time; the last batch is padded with zero rows whose
/// outputs are dropped. Labels are not needed: the loss inputs stay masked out.
///
/// ```swift
/// let predictor = try Predictor(model: trained.model, parameters: trained.parameters)
/// try predictor.predict(data) { row, predictions in print(row, predictions[0].predictedClass!) }
/// ```
public final class Predictor {
    /// The inference graph run.
    public let model: ModelGraph
    /// The parameters it runs with (their backend runs the graph).
    public let parameters: ParameterStore
    /// The tasks in the model's order, as writers need them.
    public let tasks: [PredictedTask]
    /// The map applied to the features of every row (`input.scale`, or the normalisation fitted in training).
    public let transform: FeatureTransform?
    private let executor: Executor

    /// Plans inference of `model` (build it with `training: false`) with the given parameters, on their backend;
    /// `transform` defaults to `input.scale` (pass ``TrainedModel/transform`` when the model normalises its input).
    public init(model: ModelGraph, parameters: ParameterStore, transform: FeatureTransform? = nil) throws {
        self.model = model
        self.parameters = parameters
        self.transform = transform
        tasks = model.tasks.map { PredictedTask(name: $0.spec.name, loss: $0.spec.loss, width: $0.width) }
        var outputs: [Value] = []
        for task in model.tasks {
            outputs.append(task.output)
            if let probabilities = task.probabilities { outputs.append(probabilities) }
        }
        executor = try Executor(graph: model.graph, backend: parameters.backend, parameters: parameters,
                                outputs: outputs, mode: .inference)
        try model.uploadConstants(to: executor)
        // The fused softmax cross-entropy also reads labels and mask: zeros mean "no label", so no loss is made.
        let planned = Set(executor.inputNames)
        for task in model.tasks {
            for name in [task.labelsInput, task.maskInput] where planned.contains(name) {
                guard let input = model.graph.input(named: name) else { continue }
                try executor.setInput(name, [Float](repeating: 0, count: model.graph.count(of: input)))
            }
        }
    }

    /// Calls `body` for every row of `dataset`, in file order, with the row's index and one prediction per task
    /// (in the model's task order). Label columns of `dataset` are ignored.
    ///
    /// - Throws: ``DataError`` when the dataset's feature count is not the model's input size; backend errors;
    ///   and whatever `body` throws (which stops the pass).
    public func predict(_ dataset: Dataset, _ body: (_ row: Int, _ predictions: [TaskPrediction]) throws -> Void) throws {
        let spec = model.spec
        guard dataset.featureCount == spec.input.featureCount else {
            throw DataError(message: "the data has \(dataset.featureCount) input columns but the model expects "
                + "\(spec.input.featureCount) (input.shape \(spec.input.shape))")
        }
        var batcher = try Batcher(dataset: dataset, batchSize: model.batchSize, labelColumns: [],
                                  transform: transform ?? .scaling(spec.input.scale, count: dataset.featureCount))
        batcher.resetOrder()
        var batch = batcher.makeBatch()
        var outputs = model.tasks.map { [Float](repeating: 0, count: model.graph.count(of: $0.output)) }
        var probabilities = model.tasks.map { task in
            task.probabilities.map { [Float](repeating: 0, count: model.graph.count(of: $0)) } ?? []
        }
        var predictions: [TaskPrediction] = []
        predictions.reserveCapacity(model.tasks.count)
        for index in 0..<batcher.batchCount {
            try batcher.fill(&batch, index: index)
            try TaskInputs.uploadFeatures(batch, to: executor)
            try executor.run()
            for (t, task) in model.tasks.enumerated() {
                try executor.read(task.output, into: &outputs[t])
                if let value = task.probabilities { try executor.read(value, into: &probabilities[t]) }
            }
            for r in 0..<batch.realRowCount {
                predictions.removeAll(keepingCapacity: true)
                for (t, task) in model.tasks.enumerated() {
                    predictions.append(Self.prediction(task: task, row: r, outputs: outputs[t],
                                                       probabilities: probabilities[t]))
                }
                try body(batch.sourceRows[r], predictions)
            }
        }
    }

    /// Every row's predictions, in file order (holds them all in memory; prefer ``predict(_:_:)`` for large data).
    public func predictAll(_ dataset: Dataset) throws -> [[TaskPrediction]] {
        var result: [[TaskPrediction]] = []
        result.reserveCapacity(dataset.rowCount)
        try predict(dataset) { _, predictions in result.append(predictions) }
        return result
    }

    /// One row's prediction from a batch's head output `[batch, width]` (and probabilities for cross-entropy).
    private static func prediction(task: TaskGraph, row: Int, outputs: [Float], probabilities: [Float]) -> TaskPrediction {
        let width = task.width
        switch task.spec.loss {
        case .crossEntropy:
            let p = Array(probabilities[(row * width)..<((row + 1) * width)])
            let logits = outputs[(row * width)..<((row + 1) * width)]
            // The class is the arg-max of the logits, exactly as the evaluator's accuracy counts it.
            var best = logits.startIndex
            for j in logits.indices where logits[j] > logits[best] { best = j }
            return .classes(predicted: best - logits.startIndex, probabilities: p)
        case .binaryCrossEntropy:
            let logit = outputs[row * width]
            return .binary(predicted: logit > 0 ? 1 : 0, probability: sigmoid(logit))
        case .mse, .huber, .l1:
            return .value(outputs[row * width])
        }
    }

    /// The logistic function, written so that neither branch overflows.
    static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return Float(1 / (1 + exp(-Double(x)))) }
        let e = exp(Double(x))
        return Float(e / (1 + e))
    }
}
