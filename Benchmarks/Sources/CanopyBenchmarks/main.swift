import ArgumentParser
import Canopy
import Foundation

/// `canopy-benchmarks kernels|training [--backends cpu,opencl] [--seconds S] [--json FILE]`;
/// `canopy-benchmarks workloads [--no-peers] [--steps 50] [--reps 7] [--json FILE]` (W1–W3 against PyTorch and JAX).
struct CanopyBenchmarksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canopy-benchmarks",
        abstract: "Time Canopy's kernels and training steps on each backend and report ratios from one run.")

    @Argument(help: "kernels, training, or workloads (W1–W3 against PyTorch and JAX).")
    var suite: String

    @Option(help: "Comma-separated backends; the first is the reference for ratios.")
    var backends = "cpu,opencl"

    @Option(help: "Time budget per benchmark, in seconds.")
    var seconds = 0.5

    @Option(help: "Also write the results as JSON to this file.")
    var json: String?

    @Flag(help: "workloads: time Canopy only (skip PyTorch and JAX).")
    var noPeers = false

    @Option(help: "workloads: which of w1,w2,w3 to run.")
    var workloads = "w1,w2,w3"

    @Option(help: "workloads: training steps per timed repetition.")
    var steps = 50

    @Option(help: "workloads: timed repetitions (the median is reported).")
    var reps = 7

    @Option(help: "workloads: untimed steps before the repetitions.")
    var warmup = 10

    func run() throws {
        if suite == "workloads" { return try runWorkloads() }
        guard ["kernels", "training"].contains(suite) else { throw ValidationError("suite must be kernels, training or workloads") }
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

    /// The training benchmark against peers (see ``WorkloadSuite``); a backend that cannot open is skipped.
    func runWorkloads() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let chosen = try workloads.split(separator: ",").map { id in
            guard let workload = Workload.all.first(where: { $0.id == id }) else {
                throw ValidationError("unknown workload '\(id)' (w1, w2, w3)")
            }
            return workload
        }
        var opened: [(name: String, backend: Backend)] = []
        for name in backends.split(separator: ",").map(String.init) {
            guard let choice = BackendChoice(rawValue: name) else { throw ValidationError("unknown backend '\(name)'") }
            do {
                let selected = try choice.open()
                print("# \(selected.reason)")
                opened.append((name, selected.backend))
            } catch {
                print("# backend \(name) SKIPPED: \(error)")
            }
        }
        guard !opened.isEmpty else { throw ValidationError("no backend could be opened") }
        var suite = WorkloadSuite(directory: directory, backends: opened)
        suite.steps = steps
        suite.reps = reps
        suite.warmup = warmup
        if noPeers {
            print("# peers SKIPPED: --no-peers")
        } else {
            var peers = Peers(directory: directory)
            peers.prepare()
            if peers.python != nil { suite.peers = peers }
        }
        print("# \(Date()): median of \(reps) × \(steps) training steps after a warm-up of \(warmup) steps and \(suite.warmupSeconds) s, "
              + "\(suite.threads) threads")
        let results = try suite.run(workloads: chosen)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(results).write(to: URL(fileURLWithPath: json))
        }
    }
}

CanopyBenchmarksCommand.main()
