import ArgumentParser
import Canopy

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a model file and print its graph: each layer's output shape and parameter count.")

    @Argument(help: "The model file (YAML or JSON).")
    var model: String

    func run() throws {
        try reportingErrors {
            let spec = try loadModel(model)
            print(try summarize(spec).render())
        }
    }
}
