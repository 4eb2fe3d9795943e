import ArgumentParser
import Canopy
import Foundation

/// The file formats `canopy export` writes.
enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
    case onnx
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a trained model's inference graph (ONNX, opset 17, dynamic batch).",
        discussion: """
            The file has one input, 'input' [batch, ...input.shape], taking raw feature values (the model file's \
            scale or normalisation is in the graph; a model whose input feeds only an embedding takes int64 ids), \
            and per task the outputs 'TASK_logits' and 'TASK_probabilities' (classification) or 'TASK' \
            (regression), as canopy predict reports them. Dropout is left out; batch normalization uses its \
            running statistics.
            """)

    @Argument(help: "The model file (YAML or JSON) the checkpoint was trained from.")
    var model: String

    @Option(help: ArgumentHelp("The parameters: a run's parameters.safetensors or a training checkpoint."))
    var checkpoint: String

    @Option(help: "The format to write.")
    var format: ExportFormat = .onnx

    @Option(help: "The file to write, e.g. model.onnx.")
    var out: String

    func run() throws {
        try reportingErrors {
            let spec = try loadModel(model)
            let parameters = try TrainingCheckpoint.read(from: URL(fileURLWithPath: checkpoint))
            switch format {
            case .onnx:
                let data = try ONNXExport.model(spec: spec, checkpoint: parameters, backend: CPUBackend())
                try data.write(to: URL(fileURLWithPath: out))
                let outputs = spec.tasks.flatMap(ONNXExport.outputNames(of:))
                print("wrote \(out) (ONNX opset \(ONNXExport.opsetVersion), \(data.count) bytes): input 'input', "
                    + "outputs " + outputs.map { "'\($0)'" }.joined(separator: ", "))
            }
        }
    }
}
