import Canopy
import Foundation

/// The training benchmark against peers: W1–W3 on Canopy's backends and in PyTorch and JAX, interleaved workload
/// by workload, with the same data, the same initial parameters (Canopy's, written as safetensors) and the same
/// batches, the step-0 losses checked against Canopy's, and training-step samples/s (median of `reps`
/// repetitions of `steps` steps, after a warm-up of `warmup` steps and at least `warmupSeconds`) compared as
/// ratios measured in the same run.
struct WorkloadSuite {
    /// `Benchmarks/`.
    let directory: URL
    let backends: [(name: String, backend: Backend)]
    var peers: Peers?
    var steps = 50
    var reps = 7
    var warmup = 10
    /// Warm-up lasts at least this long (allocators, thread pools and caches settle), on every engine.
    var warmupSeconds = 2.0
    /// Largest step-0 loss difference accepted between Canopy and a peer.
    var tolerance = 1e-4
    let threads = ProcessInfo.processInfo.activeProcessorCount

    var scratch: URL { directory.appendingPathComponent(".scratch") }

    /// Runs every workload and returns every engine's result, printing progress, the loss checks and the table.
    func run(workloads: [Workload]) throws -> [EngineResult] {
        var results: [EngineResult] = []
        var mismatches: [String] = []
        for workload in workloads {
            let data = scratch.appendingPathComponent("data/\(workload.id)")
            try workload.writeData(to: data)
            let spec = try ModelFile.load(contentsOf: directory.appendingPathComponent("workloads/\(workload.id).yaml"))
            let parameters = scratch.appendingPathComponent("\(workload.id)-initial.safetensors")
            var canopyLosses: [Double]?
            for (k, (name, backend)) in backends.enumerated() {
                let result = try measureCanopy(workload, spec: spec, engine: "canopy-\(name)", backend: backend,
                                               writing: k == 0 ? parameters : nil)
                canopyLosses = canopyLosses ?? result.losses
                report(result, workload: workload)
                results.append(result)
            }
            guard let peers, let reference = canopyLosses else { continue }
            for engine in ["pytorch", "jax"] {
                guard let result = peers.measure(engine, workload: workload, data: data, parameters: parameters,
                                                 steps: steps, reps: reps, warmup: warmup, warmupSeconds: warmupSeconds,
                                                 threads: threads) else { continue }
                report(result, workload: workload)
                let difference = zip(result.losses, reference).map { abs($0 - $1) }.max() ?? .infinity
                let agrees = result.losses.count == reference.count && difference <= tolerance
                print("  step-0 losses: canopy \(format(reference)) \(engine) \(format(result.losses)) "
                      + String(format: "max |Δ| %.2e ", difference) + (agrees ? "(agree to 1e-4)" : "DISAGREE"))
                if !agrees { mismatches.append("\(workload.id) \(engine)") }
                results.append(result)
            }
        }
        print("")
        print(table(results, workloads: workloads))
        print("")
        print("Best repetition instead of the median (less sensitive to other load on a shared machine):")
        print(table(results, workloads: workloads, best: true))
        if !mismatches.isEmpty { print("WARNING: step-0 losses disagree beyond \(tolerance): \(mismatches)") }
        return results
    }

    /// Times Canopy on one backend: model and plan plus the first step (cold), then `reps` × `steps` steps.
    /// Writes the initial parameters to `writing` first when given.
    func measureCanopy(_ workload: Workload, spec: ModelSpec, engine: String, backend: Backend,
                       writing parameters: URL?) throws -> EngineResult {
        let started = now()
        let trainer = try Trainer(spec: spec, backend: backend)
        let built = now()
        if let parameters { try TrainingCheckpoint(parameters: trainer.parameters).write(to: parameters) }
        let firstStarted = now()
        let losses = try trainer.runSteps(1)[0]
        try backend.synchronize()
        let first = (built - started) + (now() - firstStarted)
        let warmStart = now()
        repeat {
            try trainer.runSteps(warmup, firstBatch: 1)
            try backend.synchronize()
        } while now() - warmStart < warmupSeconds
        var times: [Double] = []
        for _ in 0..<reps {
            let start = now()
            try trainer.runSteps(steps, firstBatch: 1)
            try backend.synchronize()
            times.append((now() - start) / Double(steps))
        }
        return EngineResult(engine: engine, workload: workload.id, version: "canopy", losses: losses,
                            first_step_s: first, reps_s: times,
                            samples_per_s: Double(workload.batchSize) / median(times), threads: threads, peak_rss_mb: nil)
    }

    private func report(_ result: EngineResult, workload: Workload) {
        print("\(workload.id) \(result.engine.padding(toLength: 14, withPad: " ", startingAt: 0))"
              + String(format: "%10.0f samples/s  first step %.3f s  steps %@ ms", result.samples_per_s,
                       result.first_step_s, result.reps_s.map { String(format: "%.2f", $0 * 1e3) }.joined(separator: " ")))
        fflush(stdout)
    }

    /// A Markdown table: samples/s per engine, then the ratios of Canopy's faster backend to each peer and of
    /// Canopy OpenCL to PyTorch, then the cold first step of every engine. With `best`, rates come from each
    /// engine's fastest repetition instead of the median one.
    func table(_ results: [EngineResult], workloads: [Workload], best: Bool = false) -> String {
        let engines = ["pytorch", "jax"] + backends.map { "canopy-\($0.name)" }
        let titles = ["pytorch": "PyTorch \(threads) threads", "jax": "JAX (XLA, step jitted)",
                      "canopy-cpu": "Canopy CPU", "canopy-opencl": "Canopy OpenCL"]
        var lines = ["| workload | " + engines.map { titles[$0] ?? $0 }.joined(separator: " | ")
                     + " | best Canopy / PyTorch | best Canopy / JAX | Canopy OpenCL / PyTorch |",
                     "|---|" + String(repeating: "---|", count: engines.count + 3)]
        func rate(_ engine: String, _ workload: Workload) -> Double? {
            guard let result = results.first(where: { $0.engine == engine && $0.workload == workload.id }) else { return nil }
            guard best, let fastest = result.reps_s.min() else { return result.samples_per_s }
            return Double(workload.batchSize) / fastest
        }
        func ratio(_ a: Double?, _ b: Double?) -> String {
            guard let a, let b else { return "–" }
            return String(format: "%.2f×", a / b)
        }
        for workload in workloads {
            let canopy = backends.compactMap { rate("canopy-\($0.name)", workload) }.max()
            lines.append("| \(workload.title) | " + engines.map { engine in
                rate(engine, workload).map { Self.formatRate($0) } ?? "skipped"
            }.joined(separator: " | ") + " | \(ratio(canopy, rate("pytorch", workload))) | "
                + "\(ratio(canopy, rate("jax", workload))) | "
                + "\(ratio(rate("canopy-opencl", workload), rate("pytorch", workload))) |")
        }
        lines.append("| first step, cold (s) | " + engines.map { engine in
            let times = results.filter { $0.engine == engine }.map(\.first_step_s)
            guard let low = times.min(), let high = times.max() else { return "skipped" }
            return String(format: "%.2f–%.2f", low, high)
        }.joined(separator: " | ") + " | | | |")
        return lines.joined(separator: "\n")
    }

    static func formatRate(_ rate: Double) -> String {
        rate >= 1000 ? String(format: "%.1fk", rate / 1000) : String(format: "%.0f", rate)
    }

    private func format(_ losses: [Double]) -> String {
        "[" + losses.map { String(format: "%.6f", $0) }.joined(separator: ", ") + "]"
    }

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    private func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
