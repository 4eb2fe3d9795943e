import ArgumentParser
import Canopy
import Foundation

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict every task for every row: classes with probabilities, and regression values.",
        discussion: """
            The data needs no label columns. Its input columns are input.columns when the model file gives them, \
            else every column that is not a task's label. The output format follows --out's extension: .csv, or \
            .jsonl/.json for one JSON object per line; without --out, CSV goes to standard output.
            """)

    @Argument(help: "The model file (YAML or JSON) the checkpoint was trained from.")
    var model: String

    @Option(help: ArgumentHelp("The parameters: a run's parameters.safetensors or a training checkpoint."))
    var checkpoint: String

    @Option(help: """
        Rows to predict: a CSV file (a labels CSV naming images for a model trained on images), a .npy \
        features file, or builtin:NAME (default: all rows of the model file's data).
        """)
    var data: String?

    @Option(help: "Output file, .csv or .jsonl/.json (default: CSV on standard output).")
    var out: String?

    @OptionGroup var backendOptions: BackendOptions

    func run() throws {
        try reportingErrors {
            // With CSV on standard output, notes go to standard error so the output stays a clean table.
            func note(_ text: String) {
                if out == nil { FileHandle.standardError.write(Data((text + "\n").utf8)) } else { print(text) }
            }
            let spec = try loadModel(model)
            let outURL = out.map { URL(fileURLWithPath: $0) }
            let format = try outURL.map(PredictionFormat.init(forFile:)) ?? .csv
            let parameters = try TrainingCheckpoint.read(from: URL(fileURLWithPath: checkpoint))
            let source = data.map { PredictionData.Source(parsing: $0, for: spec) } ?? PredictionData.Source(spec.data.source)
            let names = try ClassNameMetadata.names(in: parameters.metadata, file: checkpoint)
            let encoding = try InputEncoding(metadata: parameters.metadata, input: spec.input, file: checkpoint)
            let dataset = try PredictionData.load(source, for: spec, classNames: names, encoding: encoding)
            let selected = try backendOptions.open()
            note("backend: \(selected.reason)")
            let trained = try TrainedModel(spec: spec, checkpoint: parameters, backend: selected.backend,
                                           batchSize: RunPlan.batchSize(spec, rows: dataset.rowCount))
            let predictor = try Predictor(model: trained.model, parameters: trained.parameters,
                                          transform: trained.transform)

            let sink = try outURL.map(TextSink.init(file:)) ?? TextSink()
            let tasks = zip(predictor.tasks, spec.tasks).map { task, taskSpec -> PredictedTask in
                var named = task
                named.classNames = names[taskSpec.label]
                return named
            }
            let writer = try PredictionWriter(format: format, tasks: tasks, sink: sink)
            try predictor.predict(dataset) { row, predictions in try writer.write(row: row, predictions) }
            try writer.finish()
            note("predicted \(dataset.rowCount) rows of \(source)" + (out.map { ", wrote \($0)" } ?? ""))
        }
    }
}
