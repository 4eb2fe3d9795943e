import ArgumentParser
import Canopy
import Foundation

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a trained model: every task's loss and metrics on the model's data or on other data.",
        discussion: """
            Without --data: the model file's data, split into training and validation rows exactly as in \
            training. With --data: every row of that data; tasks whose label column is absent are not scored, \
            and rows missing a task's label do not count for that task.
            """)

    @Argument(help: "The model file (YAML or JSON) the checkpoint was trained from.")
    var model: String

    @Option(help: ArgumentHelp("The parameters: a run's parameters.safetensors or a training checkpoint."))
    var checkpoint: String

    @Option(help: """
        Data to score: a CSV file (a labels CSV naming images for a model trained on images), a .npy \
        features file, or builtin:NAME (default: the model file's data, split as in training).
        """)
    var data: String?

    @OptionGroup var backendOptions: BackendOptions

    func run() throws {
        try reportingErrors {
            let spec = try loadModel(model)
            let parameters = try TrainingCheckpoint.read(from: URL(fileURLWithPath: checkpoint))
            let selected = try backendOptions.open()
            print("backend: \(selected.reason)")
            guard let data else {
                let split = try ModelData.load(
                    for: spec, encoding: try InputEncoding(metadata: parameters.metadata, input: spec.input, file: checkpoint))
                let rows = max(split.train.rowCount, split.validation.rowCount, split.test?.rowCount ?? 0)
                let trained = try TrainedModel(spec: spec, checkpoint: parameters, backend: selected.backend,
                                               batchSize: RunPlan.batchSize(spec, rows: rows))
                let evaluator = try Evaluator(model: trained.model, parameters: trained.parameters,
                                              transform: trained.transform)
                var sections: [(split: String, scores: [TaskScore])] = [("train", try evaluator.evaluate(split.train))]
                if split.validation.rowCount > 0 {
                    sections.append(("validation", try evaluator.evaluate(split.validation)))
                }
                if let test = split.test { sections.append(("test", try evaluator.evaluate(test))) }
                print("data: \(spec.data.source), \(split.train.rowCount) training and "
                    + "\(split.validation.rowCount) validation rows" + (split.test.map { ", \($0.rowCount) test rows" } ?? ""))
                print(ScoreTable.render(sections))
                return
            }
            let source = PredictionData.Source(parsing: data, for: spec)
            let names = try ClassNameMetadata.names(in: parameters.metadata, file: checkpoint)
            let encoding = try InputEncoding(metadata: parameters.metadata, input: spec.input, file: checkpoint)
            var dataset = try PredictionData.load(source, for: spec, classNames: names, encoding: encoding)
            try PredictionData.checkLabels(dataset, from: source, against: spec)
            let trained = try TrainedModel(spec: spec, checkpoint: parameters, backend: selected.backend,
                                           batchSize: RunPlan.batchSize(spec, rows: dataset.rowCount))
            let evaluator = try Evaluator(model: trained.model, parameters: trained.parameters,
                                          transform: trained.transform)
            let absent = spec.tasks.filter { dataset.labels[$0.label] == nil }
            guard absent.count < spec.tasks.count else {
                throw DataError(file: source.description, message: "has none of the tasks' label columns ("
                    + spec.tasks.map(\.label).joined(separator: ", ") + "); nothing to score (canopy predict needs no labels)")
            }
            // Absent label columns become all-missing, so the evaluator masks those tasks out entirely.
            for task in absent {
                dataset.labels[task.label] = LabelColumn(values: [Float](repeating: 0, count: dataset.rowCount),
                                                         present: [Bool](repeating: false, count: dataset.rowCount))
            }
            let scores = try evaluator.evaluate(dataset).filter { score in !absent.contains { $0.name == score.task } }
            print("data: \(source), \(dataset.rowCount) rows")
            print(ScoreTable.render([("data", scores)]))
            for task in absent { print("\(task.name): not scored, the data has no label column '\(task.label)'") }
        }
    }
}
