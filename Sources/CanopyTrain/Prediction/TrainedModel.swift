import CanopyCore
import CanopyModel

/// A model spec's inference graph with parameters loaded from a checkpoint, ready for an ``Evaluator`` or a
/// ``Predictor``.
///
/// ```swift
/// let checkpoint = try TrainingCheckpoint.read(from: URL(fileURLWithPath: "runs/digits/parameters.safetensors"))
/// let trained = try TrainedModel(spec: spec, checkpoint: checkpoint, backend: CPUBackend())
/// let scores = try Evaluator(model: trained.model, parameters: trained.parameters).evaluate(data)
/// ```
public struct TrainedModel {
    /// The graph, built with `training: false` (no backward pass) for batches of `spec.train.batchSize` rows.
    public let model: ModelGraph
    /// The checkpoint's parameters, on the chosen backend.
    public let parameters: ParameterStore
    /// The map applied to every row's features: `input.scale`, or with `input.normalize` the statistics fitted
    /// in training, read from the checkpoint's metadata.
    public let transform: FeatureTransform

    /// Builds the inference graph of `spec` and loads every parameter from `checkpoint` (strictly: the
    /// checkpoint must hold exactly the model's parameters, with the same shapes).
    ///
    /// - Parameter batchSize: rows per step; default the spec's `train.batchSize`, which gives the same numbers
    ///   as the trainer's validation.
    /// - Throws: ``CheckpointError`` listing missing, unexpected and differently shaped parameters;
    ///   ``ModelFileError`` or `GraphError` when the graph cannot be built; backend errors.
    public init(spec: ModelSpec, checkpoint: TrainingCheckpoint, backend: Backend, batchSize: Int? = nil) throws {
        model = try ModelGraph.build(spec, batchSize: batchSize ?? spec.train.batchSize, training: false)
        transform = spec.input.normalize == .none ? .scaling(spec.input.scale, count: spec.input.featureCount)
            : try FeatureTransform(metadata: checkpoint.metadata, featureCount: spec.input.featureCount,
                                   file: checkpoint.file ?? "checkpoint")
        parameters = try ParameterStore(graph: model.graph, backend: backend)
        do {
            try loadParameters(from: checkpoint, into: parameters, strict: true)
        } catch var error as CheckpointError {
            if let trainedFrom = checkpoint.metadata["model"], trainedFrom != spec.name {
                error.message += " (the checkpoint was trained from model '\(trainedFrom)', this model file "
                    + "is '\(spec.name)')"
            }
            throw error
        }
    }
}
