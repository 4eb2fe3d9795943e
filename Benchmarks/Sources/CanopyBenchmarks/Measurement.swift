import Canopy
import Foundation

/// One benchmark: a title that reads like a sentence, and a body that enqueues the work once.
struct Benchmark {
    /// `matmul 512×512×512, opencl`.
    let title: String
    /// What one run of the body counts, for rates (floating-point operations, rows, steps).
    let work: Double
    /// The unit of `work` per second (`GFLOP/s`, `steps/s`), with its scale.
    let unit: (name: String, scale: Double)
    /// The backend the body runs on (synchronised after each timed batch).
    let backend: Backend
    let body: () throws -> Void
}

/// Times benchmarks the same way: warm up, then repeat batches of runs until a time budget is spent, each batch
/// ended by one `synchronize`, and report the median time per run (robust on shared, noisy machines).
struct Timer {
    var budget: Double = 0.5
    var warmups = 3

    func median(_ benchmark: Benchmark) throws -> Double {
        for _ in 0..<warmups { try benchmark.body() }
        try benchmark.backend.synchronize()
        // Runs per batch so that a batch lasts about a millisecond at least.
        var perBatch = 1
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<perBatch { try benchmark.body() }
            try benchmark.backend.synchronize()
            if Double(DispatchTime.now().uptimeNanoseconds - start) > 1e6 || perBatch >= 1 << 16 { break }
            perBatch *= 2
        }
        var samples: [Double] = []
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(budget * 1e9)
        repeat {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<perBatch { try benchmark.body() }
            try benchmark.backend.synchronize()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(perBatch))
        } while DispatchTime.now().uptimeNanoseconds < deadline || samples.count < 5
        samples.sort()
        return samples[samples.count / 2]
    }
}

/// Prints results as a table with, for each title, the ratio of every backend's time to the first backend's,
/// measured in the same run (absolute times on shared machines mean little; ratios within one run do).
struct Report {
    struct Row: Encodable {
        let title: String
        let group: String
        let backend: String
        let seconds: Double
        let rate: Double
        let unit: String
    }

    private(set) var rows: [Row] = []

    mutating func add(_ benchmark: Benchmark, group: String, seconds: Double) {
        let rate = benchmark.work / seconds / benchmark.unit.scale
        rows.append(Row(title: benchmark.title, group: group, backend: benchmark.backend.name, seconds: seconds,
                        rate: rate, unit: benchmark.unit.name))
        let reference = rows.first { $0.group == group }!
        let ratio = seconds / reference.seconds
        let ratioText = reference.backend == benchmark.backend.name ? "reference"
            : String(format: "%.2f", ratio) + "× the time of \(reference.backend)"
        let title = benchmark.title.padding(toLength: max(52, benchmark.title.count), withPad: " ", startingAt: 0)
        print(title + String(format: " %11.1f µs %10.2f ", seconds * 1e6, rate) + "\(benchmark.unit.name)   \(ratioText)")
        fflush(stdout)
    }

    func writeJSON(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(rows).write(to: URL(fileURLWithPath: path))
    }
}
