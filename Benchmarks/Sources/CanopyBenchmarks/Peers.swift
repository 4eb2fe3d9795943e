import Foundation

/// One engine's measurement of one workload, from Canopy or from a peer script's JSON line (same keys).
struct EngineResult: Codable {
    /// `canopy-cpu`, `canopy-opencl`, `pytorch`, `jax`.
    var engine: String
    var workload: String
    /// The engine's version (the peers' library versions).
    var version: String
    /// Each task's loss on the first batch, before any update (step 0), in model-file order.
    var losses: [Double]
    /// Cold first step: building the model (and, for Canopy, its plan and kernels; for JAX, tracing and
    /// compiling) plus the first training step, in seconds.
    var first_step_s: Double
    /// Seconds per step of each repetition of `steps` steps after warm-up.
    var reps_s: [Double]
    /// Training samples per second from the median repetition.
    var samples_per_s: Double
    /// Threads the engine was given.
    var threads: Int
    /// The process's peak resident memory in MB (`getrusage`), every engine in a process of its own.
    var peak_rss_mb: Double?

    // Canopy only (nil for the peers): from its step profile (kernel calls and host transfers of one warm step,
    // as `canopy check --plan` measures them), the OpenCL backend's device launches per timed step, the cold
    // start's parts and the OpenCL program cache's use.
    var kernel_calls_per_step: Int?
    var device_launches_per_step: Double?
    var uploads_per_step: Int?
    var uploaded_bytes_per_step: Int?
    var downloads_per_step: Double?
    var downloaded_bytes_per_step: Int?
    var buffers_allocated_per_step: Int?
    /// Opening the backend (device, context, queue), before the first step's clock starts.
    var backend_open_s: Double?
    var device: String?
    /// OpenCL programs built from source and loaded from Canopy's disk cache by the end of the first step.
    var programs_built: Int?
    var programs_from_cache: Int?
    /// The OpenCL backend's first step in a process of its own with an empty `CANOPY_CACHE_DIR` and
    /// `POCL_CACHE_DIR` (set by the parent from that process's result; `first_step_s` is then the warm one).
    var first_step_cold_s: Double?
    /// A whole epoch as `canopy train` runs it (its steps, validation, gradient diagnostics, the run folder's
    /// commit), validation alone, and the epoch's steps; medians of 3 epochs, after the timed repetitions.
    var epoch_s: Double?
    var validation_s: Double?
    var epoch_steps: Int?
    /// The same number of training steps alone, timed between the epochs.
    var epoch_steps_s: Double?
}

/// Runs the PyTorch and JAX scripts in `Benchmarks/peers/` with the virtual environment `peers/setup.sh` makes
/// in `Benchmarks/.venv`, and reads the JSON line each prints.
struct Peers {
    /// `Benchmarks/`.
    let directory: URL
    /// The venv's python, once ``prepare()`` succeeded.
    private(set) var python: URL?

    /// The engines and their scripts.
    static let scripts = ["pytorch": "torch_bench.py", "jax": "jax_bench.py"]

    init(directory: URL) { self.directory = directory }

    /// Runs `peers/setup.sh` (quick when the venv is ready); on failure prints why and leaves ``python`` nil, so
    /// that the suite skips the peers.
    mutating func prepare() {
        let setup = directory.appendingPathComponent("peers/setup.sh")
        print("# peers: preparing \(directory.appendingPathComponent(".venv").path) (bash peers/setup.sh)")
        fflush(stdout)
        let (status, output) = Self.run(URL(fileURLWithPath: "/bin/bash"), [setup.path])
        guard status == 0 else {
            print("# peers SKIPPED: setup.sh failed (status \(status)): "
                  + output.split(separator: "\n").suffix(3).joined(separator: " | "))
            return
        }
        print("# " + (output.split(separator: "\n").last.map(String.init) ?? "peers ready"))
        python = directory.appendingPathComponent(".venv/bin/python")
    }

    /// Runs one peer on one workload; nil (with a message) when it fails.
    func measure(_ engine: String, workload: Workload, data: URL, parameters: URL, steps: Int, reps: Int,
                 warmup: Int, warmupSeconds: Double, threads: Int) -> EngineResult? {
        guard let python, let script = Self.scripts[engine] else { return nil }
        let arguments = [directory.appendingPathComponent("peers/\(script)").path,
                         "--workload", workload.id, "--data", data.path, "--params", parameters.path,
                         "--batch", String(workload.batchSize), "--steps", String(steps), "--reps", String(reps),
                         "--warmup", String(warmup), "--warmup-seconds", String(warmupSeconds), "--threads", String(threads)]
        let (status, output) = Self.run(python, arguments)
        let line = output.split(separator: "\n").last { $0.hasPrefix("{") }
        guard status == 0, let line, let result = try? JSONDecoder().decode(EngineResult.self, from: Data(line.utf8))
        else {
            print("# \(engine) FAILED on \(workload.id) (status \(status)): "
                  + output.split(separator: "\n").suffix(5).joined(separator: " | "))
            return nil
        }
        return result
    }

    /// Runs a program to completion; its exit status and its standard output and error together.
    /// `environment` adds to (or replaces in) this process's environment.
    static func run(_ program: URL, _ arguments: [String], environment: [String: String] = [:]) -> (Int32, String) {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
