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
    /// The process's peak resident memory in MB (peers only: Canopy's engines share one process).
    var peak_rss_mb: Double?
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
    static func run(_ program: URL, _ arguments: [String]) -> (Int32, String) {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
