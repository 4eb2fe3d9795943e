import Canopy
import Foundation

/// The training benchmark against peers: W1–W3 on Canopy's backends and in PyTorch and JAX, interleaved workload
/// by workload, with the same data, the same initial parameters (Canopy's, written as safetensors) and the same
/// batches, the step-0 losses checked against Canopy's, and training-step samples/s (median of `reps`
/// repetitions of `steps` steps, after a warm-up of `warmup` steps and at least `warmupSeconds`) compared as
/// ratios measured in the same run.
///
/// Every engine runs in a process of its own (Canopy's measurements in ``CanopyChild`` processes of this same
/// binary), so each reports its own peak resident memory. Canopy's processes also report their step profile
/// (kernel calls and host transfers per step) and, for OpenCL, device launches per step and a cold first step
/// (a process with an empty `CANOPY_CACHE_DIR` and `POCL_CACHE_DIR`) beside the warm one (the timed process,
/// which finds the cache the cold one filled).
struct WorkloadSuite {
    /// `Benchmarks/`.
    let directory: URL
    /// Canopy's backends by name (`cpu`, `opencl`); each is opened in the child processes.
    let backends: [String]
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

    /// Runs every workload and returns every engine's result, printing progress, the loss checks and the tables.
    func run(workloads: [Workload]) throws -> [EngineResult] {
        var results: [EngineResult] = []
        var mismatches: [String] = []
        for workload in workloads {
            let data = scratch.appendingPathComponent("data/\(workload.id)")
            try workload.writeData(to: data)
            let parameters = scratch.appendingPathComponent("\(workload.id)-initial.safetensors")
            try? FileManager.default.removeItem(at: parameters)
            var canopyLosses: [Double]?
            for name in backends {
                guard let result = measureCanopy(workload, backend: name,
                                                 writing: canopyLosses == nil ? parameters : nil) else { continue }
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
        print("")
        print("Peak resident memory (each engine in a process of its own, getrusage ru_maxrss) and one warm step "
              + "(Canopy's step profile, as `canopy check --plan` measures it):")
        print(memoryTable(results, workloads: workloads))
        print("")
        print("Whole epochs as `canopy train` runs them (median of 3): 160 steps (the workload's rows 10 times over), "
            + "validated on the workload's 16 batches (a tenth of the epoch's rows), against 160 steps alone timed between them:")
        print(epochTable(results, workloads: workloads))
        if !mismatches.isEmpty { print("WARNING: step-0 losses disagree beyond \(tolerance): \(mismatches)") }
        return results
    }

    /// Runs Canopy on one backend in child processes of this binary: for OpenCL first a cold one (first step
    /// only, empty kernel caches), then the timed one, warm from the cache the cold one filled. Writes the
    /// initial parameters to `writing` first when given. Nil (with a message) when a process fails.
    func measureCanopy(_ workload: Workload, backend: String, writing parameters: URL?) -> EngineResult? {
        let base = ["canopy-child", "--workloads", workload.id, "--backends", backend, "--steps", String(steps),
                    "--reps", String(reps), "--warmup", String(warmup), "--warmup-seconds", String(warmupSeconds)]
        let writing = parameters.map { ["--parameters", $0.path] } ?? []
        guard backend == "opencl" else { return child(base + writing, label: "canopy-\(backend)", workload: workload) }
        let cache = scratch.appendingPathComponent("opencl-cache/\(workload.id)")
        try? FileManager.default.removeItem(at: cache)
        // Both caches a user's first run starts without: Canopy's and the driver's own (PoCL's kernel cache).
        let environment = ["CANOPY_CACHE_DIR": cache.path, "POCL_CACHE_DIR": cache.appendingPathComponent("pocl").path]
        guard let cold = child(base + writing + ["--first-step-only"], environment: environment, label: "canopy-opencl (cold)",
                               workload: workload) else { return nil }
        print("\(workload.id) canopy-opencl  cold process: " + String(format: "backend opened in %.3f s, first step %.3f s, ",
                                                                       cold.backend_open_s ?? 0, cold.first_step_s)
              + "programs \(cold.programs_built ?? 0) built, \(cold.programs_from_cache ?? 0) from cache "
              + "(CANOPY_CACHE_DIR and POCL_CACHE_DIR empty)")
        guard var warm = child(base, environment: environment,
                               label: "canopy-opencl", workload: workload) else { return nil }
        print("\(workload.id) canopy-opencl  warm process: " + String(format: "backend opened in %.3f s, first step %.3f s, ",
                                                                       warm.backend_open_s ?? 0, warm.first_step_s)
              + "programs \(warm.programs_built ?? 0) built, \(warm.programs_from_cache ?? 0) from cache (same cache, filled)")
        warm.first_step_cold_s = cold.first_step_s
        return warm
    }

    /// Runs this binary with `arguments` and reads the JSON line it prints.
    private func child(_ arguments: [String], environment: [String: String] = [:], label: String,
                       workload: Workload) -> EngineResult? {
        let (status, output) = Peers.run(Self.executable, arguments, environment: environment)
        let line = output.split(separator: "\n").last { $0.hasPrefix("{") }
        guard status == 0, let line, let result = try? JSONDecoder().decode(EngineResult.self, from: Data(line.utf8)) else {
            print("# \(label) FAILED on \(workload.id) (status \(status)): "
                  + output.split(separator: "\n").suffix(5).joined(separator: " | "))
            return nil
        }
        return result
    }

    /// This benchmark binary (the child processes are this program too).
    static var executable: URL {
        let link = URL(fileURLWithPath: "/proc/self/exe")
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link.path) {
            return URL(fileURLWithPath: target)
        }
        return Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
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
        let engines = ["pytorch", "jax"] + backends.map { "canopy-\($0)" }
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
            let canopy = backends.compactMap { rate("canopy-\($0)", workload) }.max()
            lines.append("| \(workload.title) | " + engines.map { engine in
                rate(engine, workload).map { Self.formatRate($0) } ?? "skipped"
            }.joined(separator: " | ") + " | \(ratio(canopy, rate("pytorch", workload))) | "
                + "\(ratio(canopy, rate("jax", workload))) | "
                + "\(ratio(rate("canopy-opencl", workload), rate("pytorch", workload))) |")
        }
        // The cold first step; for Canopy OpenCL the process with empty kernel caches, beside it the warm one.
        func firstSteps(_ engine: String, warm: Bool) -> String {
            let times = results.filter { $0.engine == engine }
                .compactMap { warm ? ($0.first_step_cold_s == nil ? nil : $0.first_step_s) : ($0.first_step_cold_s ?? $0.first_step_s) }
            guard let low = times.min(), let high = times.max() else { return warm ? "–" : "skipped" }
            return String(format: "%.2f–%.2f", low, high)
        }
        lines.append("| first step, cold (s) | " + engines.map { firstSteps($0, warm: false) }.joined(separator: " | ") + " | | | |")
        if backends.contains("opencl") {
            lines.append("| first step, warm kernel cache (s) | " + engines.map { firstSteps($0, warm: true) }
                .joined(separator: " | ") + " | | | |")
        }
        return lines.joined(separator: "\n")
    }

    /// A Markdown table per workload: every engine's peak resident memory, Canopy's over PyTorch's, and
    /// Canopy's kernel calls, OpenCL device launches and host transfers in one warm step.
    func memoryTable(_ results: [EngineResult], workloads: [Workload]) -> String {
        let engines = ["pytorch", "jax"] + backends.map { "canopy-\($0)" }
        let titles = ["pytorch": "PyTorch", "jax": "JAX", "canopy-cpu": "Canopy CPU", "canopy-opencl": "Canopy OpenCL"]
        let ratios = backends.map { "canopy-\($0)" }
        var lines = ["| workload | " + engines.map { "peak RSS \(titles[$0] ?? $0)" }.joined(separator: " | ") + " | "
                     + ratios.map { "\(titles[$0] ?? $0) / PyTorch" }.joined(separator: " | ")
                     + " | kernel calls / step | OpenCL launches / step | uploads / step | downloads / step |",
                     "|---|" + String(repeating: "---|", count: engines.count + ratios.count + 4)]
        for workload in workloads {
            func result(_ engine: String) -> EngineResult? {
                results.first { $0.engine == engine && $0.workload == workload.id }
            }
            let torch = result("pytorch")?.peak_rss_mb
            let canopy = ratios.compactMap(result).first
            let openCL = result("canopy-opencl")
            func transfers(_ count: Double?, _ bytes: Int?) -> String {
                guard let count, let bytes else { return "–" }
                return String(format: "%.3g", count) + " (\(MemoryPlan.format(bytes)))"
            }
            lines.append("| \(workload.title) | "
                + engines.map { result($0)?.peak_rss_mb.map { String(format: "%.0f MB", $0) } ?? "skipped" }.joined(separator: " | ")
                + " | " + ratios.map { engine in
                    guard let mine = result(engine)?.peak_rss_mb, let torch else { return "–" }
                    return String(format: "%.2f×", mine / torch)
                }.joined(separator: " | ")
                + " | \(canopy?.kernel_calls_per_step.map(String.init) ?? "–")"
                + " | \(openCL?.device_launches_per_step.map { String(format: "%.0f", $0) } ?? "–")"
                + " | \(transfers(canopy?.uploads_per_step.map(Double.init), canopy?.uploaded_bytes_per_step))"
                + " | \(transfers(canopy?.downloads_per_step, canopy?.downloaded_bytes_per_step)) |")
        }
        return lines.joined(separator: "\n")
    }

    /// A Markdown table per workload and Canopy backend: the whole epoch as `canopy train` runs it against as many
    /// steps alone (timed between the epochs) and against those steps plus validation alone; what is left is the
    /// gradient diagnostics, the metrics and the run folder's commit.
    func epochTable(_ results: [EngineResult], workloads: [Workload]) -> String {
        var lines = ["| workload | backend | steps alone (ms) | validation alone (ms) | whole epoch (ms) | "
                     + "epoch / steps | epoch / (steps + validation) |", "|---|---|---|---|---|---|---|"]
        for workload in workloads {
            for result in results where result.workload == workload.id && result.engine.hasPrefix("canopy-") {
                guard let epoch = result.epoch_s, let validation = result.validation_s,
                      let steps = result.epoch_steps_s else { continue }
                lines.append("| \(workload.title) | \(result.engine.dropFirst(7)) | "
                    + String(format: "%.1f | %.1f | %.1f | %.2f× | %.2f× |", steps * 1e3, validation * 1e3, epoch * 1e3,
                             epoch / steps, epoch / (steps + validation)))
            }
        }
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
