import CanopyCore
import CanopyModel
import CanopyTrain
import Foundation
import SwiftProtobuf

/// Why a model could not be exported: the message names the file and, for a graph node, its op.
public struct ONNXExportError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, starting with the file concerned.
    public let message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Exports a trained model's inference graph, the one `canopy predict` runs, as an ONNX model (opset 17, IR
/// version 8) with a dynamic batch dimension named `batch`.
///
/// - Input: one tensor named `input` ([batch] + `input.shape`) holding the raw feature values: the model file's
///   `input.scale` or fitted `normalize:` transform is part of the graph. A model whose input only feeds an
///   `embedding` layer (token ids, categorical indices) takes int64 ids instead. Text and category names are not
///   in the file: Canopy maps them to features or ids with the `input_encoding` metadata of `parameters.safetensors`.
/// - Outputs, one per task and in the model's task order: `<task>_logits` and `<task>_probabilities` [batch, width]
///   for a classification task (softmax for `cross_entropy`, sigmoid of each logit for `binary_cross_entropy`),
///   `<task>` [batch, width] for a regression task: exactly what ``Predictor`` reports.
/// - Parameters are initializers named as in `parameters.safetensors` (`shared.0.weight`, ...).
///
/// ```swift
/// let checkpoint = try TrainingCheckpoint.read(from: URL(fileURLWithPath: "runs/digits/parameters.safetensors"))
/// try ONNXExport.model(spec: spec, checkpoint: checkpoint, backend: CPUBackend()).write(to: url)
/// ```
public enum ONNXExport {
    /// The ONNX operator set the exported graphs use.
    public static let opsetVersion = 17
    /// The ONNX IR version of exported files.
    public static let irVersion = 8
    /// The name of the dynamic batch dimension.
    public static let batchDimension = "batch"

    /// The ONNX output names of `task`, in the order the file lists them.
    public static func outputNames(of task: TaskSpec) -> [String] {
        switch task.loss {
        case .crossEntropy, .binaryCrossEntropy: return ["\(task.name)_logits", "\(task.name)_probabilities"]
        case .mse, .huber, .l1: return [task.name]
        }
    }

    /// Whether the exported model takes int64 ids: its input feeds only `embedding` layers' ids, unscaled.
    public static func takesIndices(_ model: ModelGraph, transform: FeatureTransform) -> Bool {
        guard transform.offset.allSatisfy({ $0 == 0 }), transform.factor.allSatisfy({ $0 == 1 }) else { return false }
        var readers = 0
        for node in model.graph.nodes {
            for (slot, input) in node.inputs.enumerated() where input == model.input {
                guard case .embedding = node.op, slot == 0 else { return false }
                readers += 1
            }
        }
        return readers > 0
    }

    /// The serialized ONNX model of `spec` with the parameters of `checkpoint`.
    ///
    /// - Parameter backend: where the checkpoint's parameters are loaded (and checked) on their way to the file.
    /// - Throws: ``CheckpointError`` naming the checkpoint file when it lacks a parameter, has an extra one or one
    ///   of another shape; ``ONNXExportError`` naming the model file and the op when a node has no inference form.
    public static func model(spec: ModelSpec, checkpoint: TrainingCheckpoint, backend: Backend) throws -> Data {
        try proto(spec: spec, checkpoint: checkpoint, backend: backend).serializedData()
    }

    static func proto(spec: ModelSpec, checkpoint: TrainingCheckpoint, backend: Backend) throws -> Onnx_ModelProto {
        let trained = try TrainedModel(spec: spec, checkpoint: checkpoint, backend: backend, batchSize: 1)
        let pair = try ModelGraph.build(spec, batchSize: 2, training: false)
        let walk = try ONNXGraphWalk(graph: trained.model.graph, pairGraph: pair.graph,
                                     constants: trained.model.constants,
                                     parameters: try trained.parameters.snapshot(), source: spec.fileName)
        var graph = Onnx_GraphProto()
        graph.name = spec.name
        let indices = takesIndices(trained.model, transform: trained.transform)
        graph.input = [valueInfo(ModelGraph.inputName, shape: [1] + spec.input.shape,
                                 type: indices ? .int64 : .float)]
        walk.inputs[ModelGraph.inputName] = transformedInput(indices: indices, transform: trained.transform,
                                                             shape: spec.input.shape, in: &walk.builder)
        try walk.lowerAncestors(of: trained.model.tasks.map(\.output))
        var taken: Set<String> = [ModelGraph.inputName]
        for task in trained.model.tasks {
            let logits = try walk.name(of: task.output)
            let names = outputNames(of: task.spec)
            for name in names where !taken.insert(name).inserted {
                throw ONNXExportError("\(spec.fileName): task '\(task.spec.name)' would name an output '\(name)', "
                    + "which another input or output of the ONNX graph already has; rename the task")
            }
            walk.builder.named(names[0], "Identity", [logits])
            switch task.spec.loss {
            case .crossEntropy:
                walk.builder.named(names[1], "Softmax", [logits])
            case .binaryCrossEntropy:
                walk.builder.named(names[1], "Sigmoid", [logits])
            case .mse, .huber, .l1:
                break
            }
            graph.output += names.map { valueInfo($0, shape: walk.graph.shape(of: task.output), type: .float) }
        }
        graph.node = walk.builder.nodes
        graph.initializer = walk.builder.initializers
        var model = Onnx_ModelProto()
        model.irVersion = Int64(irVersion)
        model.producerName = "Canopy"
        model.graph = graph
        model.docString = "Canopy model '\(spec.name)' (\(spec.fileName)); inputs and outputs as `canopy predict` "
            + "reads and reports them"
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(opsetVersion)
        model.opsetImport = [opset]
        return model
    }

    /// The value the graph's nodes read as the model's input: ids cast to float, or features through the
    /// model's transform `(x − offset) · factor` (steps that change nothing left out).
    private static func transformedInput(indices: Bool, transform: FeatureTransform, shape: [Int],
                                         in builder: inout ONNXGraphBuilder) -> String {
        var value = ModelGraph.inputName
        if indices {
            return builder.one("Cast", [value], hint: "input_ids", [.int("to", Int(Onnx_TensorProto.DataType.float.rawValue))])
        }
        if transform.offset.contains(where: { $0 != 0 }) {
            value = builder.one("Sub", [value, builder.floats(transform.offset, shape: shape, hint: "input_offset")],
                                hint: "input_centred")
        }
        if transform.factor.contains(where: { $0 != 1 }) {
            value = builder.one("Mul", [value, builder.floats(transform.factor, shape: shape, hint: "input_factor")],
                                hint: "input_scaled")
        }
        return value
    }

    /// A tensor's name, element type and shape, its first dimension the dynamic batch.
    private static func valueInfo(_ name: String, shape: [Int], type: Onnx_TensorProto.DataType) -> Onnx_ValueInfoProto {
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(type.rawValue)
        tensor.shape.dim = shape.enumerated().map { axis, size in
            var dimension = Onnx_TensorShapeProto.Dimension()
            if axis == 0 { dimension.dimParam = batchDimension } else { dimension.dimValue = Int64(size) }
            return dimension
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensor
        return info
    }
}
