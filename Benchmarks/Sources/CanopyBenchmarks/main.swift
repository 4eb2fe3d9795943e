import ArgumentParser
import Canopy
import Foundation

/// `canopy-benchmarks kernels|training [--backends cpu,opencl] [--seconds S] [--json FILE]`.
struct CanopyBenchmarksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canopy-benchmarks",
        abstract: "Time Canopy's kernels and training steps on each backend and report ratios from one run.")

    @Argument(help: "kernels or training.")
    var suite: String

    @Option(help: "Comma-separated backends; the first is the reference for ratios.")
    var backends = "cpu,opencl"

    @Option(help: "Time budget per benchmark, in seconds.")
    var seconds = 0.5

    @Option(help: "Also write the results as JSON to this file.")
    var json: String?

    func run() throws {
        guard ["kernels", "training"].contains(suite) else { throw ValidationError("suite must be kernels or training") }
        let opened = try backends.split(separator: ",").map { name -> Backend in
            guard let choice = BackendChoice(rawValue: String(name)) else { throw ValidationError("unknown backend '\(name)'") }
            let selected = try choice.open()
            print("# \(selected.reason)")
            return selected.backend
        }
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Examples")
        let perBackend = try opened.map { backend in
            suite == "kernels" ? try KernelSuite.groups(on: backend)
                               : try TrainingSuite.groups(on: backend, examplesDirectory: examples)
        }
        let timer = Timer(budget: seconds)
        var report = Report()
        // Interleave backends per benchmark so that both see the same machine load.
        for index in perBackend[0].indices {
            for benchmarks in perBackend {
                let (group, benchmark) = benchmarks[index]
                report.add(benchmark, group: group, seconds: try timer.median(benchmark))
            }
        }
        if let json { try report.writeJSON(to: json) }
    }
}

CanopyBenchmarksCommand.main()
