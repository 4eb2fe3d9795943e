import ArgumentParser
import Canopy
import Foundation

/// `canopy-benchmarks kernels [--backends cpu,opencl] [--references openblas,clblast] [--seconds S] [--json FILE]`;
/// `canopy-benchmarks training [--backends cpu,opencl] [--seconds S] [--json FILE]`;
/// `canopy-benchmarks workloads [--no-peers] [--steps 50] [--reps 7] [--json FILE]` (W1–W3 against PyTorch and JAX).
/// `canopy-benchmarks scaling [--workloads w1,w2,w3] [--reps 5] [--json FILE]` (data-parallel on Open MPI).
/// `canopy-child` (not for people) is one Canopy measurement of `workloads` in a process of its own.
struct CanopyBenchmarksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canopy-benchmarks",
        abstract: "Time Canopy's kernels and training steps on each backend and report ratios from one run.")

    @Argument(help: "kernels, training, workloads (W1–W3 against PyTorch and JAX) or scaling (data-parallel W1–W3 on Open MPI).")
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

    @Option(help: "workloads: the warm-up lasts at least this long, in seconds.")
    var warmupSeconds = 2.0

    @Option(help: "kernels: reference libraries run beside Canopy on the same sizes (openblas, clblast; 'none').")
    var references = "openblas,clblast"

    @Option(help: "kernels: run only the rows whose title contains this text (say 'conv2d' or 'bias').")
    var matching = ""

    @Option(help: .hidden)
    var parameters: String?

    @Flag(help: .hidden)
    var firstStepOnly = false

    /// `Benchmarks/`.
    var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func run() throws {
        switch suite {
        case "workloads": return try runWorkloads()
        case "kernels": return try runKernels()
        case "canopy-child": return try runChild()
        case "scaling": return try runScaling()
        case "training": break
        default: throw ValidationError("suite must be kernels, training, workloads or scaling")
        }
        let opened = try backends.split(separator: ",").map { name -> Backend in
            guard let choice = BackendChoice(rawValue: String(name)) else { throw ValidationError("unknown backend '\(name)'") }
            let selected = try choice.open()
            print("# \(selected.reason)")
            return selected.backend
        }
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Examples")
        let perBackend = try opened.map { backend in
            try TrainingSuite.groups(on: backend, examplesDirectory: examples)
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
        let chosen = try workloads.split(separator: ",").map { id in
            guard let workload = Workload.all.first(where: { $0.id == id }) else {
                throw ValidationError("unknown workload '\(id)' (w1, w2, w3)")
            }
            return workload
        }
        let names = backends.split(separator: ",").map(String.init)
        for name in names where BackendChoice(rawValue: name) == nil { throw ValidationError("unknown backend '\(name)'") }
        guard !names.isEmpty else { throw ValidationError("no backend given") }
        var suite = WorkloadSuite(directory: directory, backends: names)
        suite.warmupSeconds = warmupSeconds
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
              + "\(suite.threads) threads; every engine in a process of its own (Canopy: this binary's canopy-child)")
        let results = try suite.run(workloads: chosen)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(results).write(to: URL(fileURLWithPath: json))
        }
    }
}

extension CanopyBenchmarksCommand {
    /// Data-parallel scaling of W1 and W3 on Open MPI (see ``ScalingSuite``).
    func runScaling() throws {
        let chosen = workloads.split(separator: ",").map(String.init)
        let rows = try ScalingSuite(directory: directory, reps: reps == 7 ? 5 : reps).run(workloads: chosen)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(fileURLWithPath: json))
        }
    }

    /// `canopy-child --workloads wN --backends NAME …`: one Canopy measurement, one JSON line on stdout.
    func runChild() throws {
        guard let workload = Workload.all.first(where: { $0.id == workloads }) else {
            throw ValidationError("canopy-child takes one workload, not '\(workloads)'")
        }
        var child = CanopyChild(workload: workload, backendName: backends, directory: directory)
        child.steps = steps; child.reps = reps; child.warmup = warmup; child.warmupSeconds = warmupSeconds
        child.parameters = parameters.map { URL(fileURLWithPath: $0) }
        child.firstStepOnly = firstStepOnly
        let result = try child.run()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}

// A cold OpenCL first step starts this executable again as its compile helper (OpenCLCompileHelper).
OpenCLCompileHelper.serveIfAsked()
CanopyBenchmarksCommand.main()
