import ArgumentParser
import Canopy
import Foundation

@main
struct CanopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canopy",
        abstract: "Canopy: multi-task learning from a model file, on OpenCL or on the CPU.",
        subcommands: [TrainCommand.self, CheckCommand.self, DevicesCommand.self, EvaluateCommand.self, PredictCommand.self,
                      TuneCommand.self, ReportCommand.self, ExportCommand.self])

    /// Does the work of an OpenCL compile helper when started as one (``OpenCLCompileHelper``), else runs the command.
    static func main() {
        OpenCLCompileHelper.serveIfAsked()
        main(nil)
    }
}

/// Runs a command body; prints Canopy's errors as one `error:` line and exits with status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

/// Loads a model file, naming the path in errors for files that cannot be read.
func loadModel(_ path: String) throws -> ModelSpec {
    try ModelFile.load(contentsOf: URL(fileURLWithPath: path))
}

/// `--backend` and `--device`, shared by every command that runs a model.
struct BackendOptions: ParsableArguments {
    @Option(help: "auto (train: the faster for this model, measured once and remembered; else an OpenCL GPU, else any OpenCL device, else the CPU), opencl or cpu.")
    var backend: BackendChoice = .auto

    @Option(parsing: .unconditional,
            help: "OpenCL device: index, platform:device, gpu/cpu, or a name substring (default: CANOPY_DEVICE).")
    var device: String?

    func validate() throws {
        if let device, let index = Int(device.trimmingCharacters(in: .whitespaces)), index < 0 {
            throw ValidationError("--device takes a device index of 0 or more (see canopy devices), got \(index)")
        }
        if let device, device.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--device is empty; give an index, platform:device, gpu/cpu or a name substring")
        }
    }

    /// Opens the chosen backend.
    func open() throws -> SelectedBackend { try backend.open(device: device) }

    /// Opens the chosen backend to train `plan`'s model (`auto` measures which backend is faster for it).
    func open(forTraining plan: RunPlan) throws -> SelectedBackend { try backend.open(forTraining: plan, device: device) }
}

extension BackendChoice: ExpressibleByArgument {}
