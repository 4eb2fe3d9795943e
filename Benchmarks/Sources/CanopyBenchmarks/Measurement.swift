import Canopy
import Foundation

/// One benchmark: a title that reads like a sentence, and a body that enqueues the work once.
struct Benchmark {
    /// `matmul 512×512×512, opencl`.
    let title: String
    /// Who runs it: a Canopy backend (`cpu`, `opencl`) or a reference library (`openblas`, `clblast`).
    let engine: String
    /// What one run of the body counts, for rates (floating-point operations, rows, steps).
    let work: Double
    /// The unit of `work` per second (`GFLOP/s`, `steps/s`), with its scale.
    let unit: (name: String, scale: Double)
    /// Waits for the work the body enqueued (a backend's `synchronize`, `clFinish`); after each timed batch.
    let synchronize: () throws -> Void
    /// Runs before the first and after the last run (OpenBLAS's thread count, set for its rows only).
    var setUp: () -> Void = {}
    var tearDown: () -> Void = {}
    let body: () throws -> Void

    /// A benchmark on a Canopy backend.
    init(title: String, work: Double, unit: (name: String, scale: Double), backend: Backend, body: @escaping () throws -> Void) {
        self.init(title: title, engine: backend.name, work: work, unit: unit, synchronize: backend.synchronize, body: body)
    }

    init(title: String, engine: String, work: Double, unit: (name: String, scale: Double),
         synchronize: @escaping () throws -> Void, body: @escaping () throws -> Void) {
        self.title = title; self.engine = engine; self.work = work; self.unit = unit
        self.synchronize = synchronize; self.body = body
    }
}

/// Times benchmarks the same way: warm up, then repeat batches of runs until a time budget is spent, each batch
/// ended by one synchronisation, and report the median time per run (robust on shared, noisy machines).
/// Benchmarks timed together take their batches in turn (round robin), so that a change of load on the machine
/// falls on all of them alike and the ratios between them hold.
struct Timer {
    var budget: Double = 0.5
    var warmups = 3
    /// Fewest timed batches (3 when one run alone takes more than a tenth of the budget, as 2048³ on PoCL does).
    var minimumSamples = 5

    func median(_ benchmark: Benchmark) throws -> Double { try medians([benchmark])[0] }

    /// The median time per run of each benchmark, spending `budget` per benchmark in all.
    func medians(_ benchmarks: [Benchmark]) throws -> [Double] {
        var perBatch: [Int] = [], samples: [[Double]] = []
        for benchmark in benchmarks {
            let (runs, first) = try calibrate(benchmark)
            perBatch.append(runs)
            samples.append([first])
        }
        let fewest = samples.map { $0[0] > 0.1 * budget ? min(3, minimumSamples) : minimumSamples }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(budget * Double(benchmarks.count) * 1e9)
        while DispatchTime.now().uptimeNanoseconds < deadline || zip(samples, fewest).contains(where: { $0.count < $1 }) {
            for (i, benchmark) in benchmarks.enumerated() {
                benchmark.setUp()
                defer { benchmark.tearDown() }
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<perBatch[i] { try benchmark.body() }
                try benchmark.synchronize()
                samples[i].append(seconds(since: start) / Double(perBatch[i]))
            }
        }
        return samples.map { $0.sorted()[$0.count / 2] }
    }

    /// Warms up (the first run compiles for OpenCL and CLBlast, and allocates; long runs need no further
    /// warm-up), then finds how many runs make a batch last a millisecond at least; returns them and the time per
    /// run of that batch.
    private func calibrate(_ benchmark: Benchmark) throws -> (runs: Int, seconds: Double) {
        benchmark.setUp()
        defer { benchmark.tearDown() }
        var start = DispatchTime.now().uptimeNanoseconds
        try benchmark.body()
        try benchmark.synchronize()
        for _ in 1..<warmups where seconds(since: start) < 0.05 * budget {
            start = DispatchTime.now().uptimeNanoseconds
            try benchmark.body()
            try benchmark.synchronize()
        }
        var runs = 1
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<runs { try benchmark.body() }
            try benchmark.synchronize()
            let elapsed = seconds(since: start)
            if elapsed > 1e-3 || runs >= 1 << 16 { return (runs, elapsed / Double(runs)) }
            runs *= 2
        }
    }

    private func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}

/// Prints results, one line per benchmark as it is measured, with the ratio of its time to the first engine's in
/// its group, measured in the same run (absolute times on shared machines mean little; ratios within one run do).
struct Report {
    struct Row: Encodable {
        let title: String
        let group: String
        /// The engine: `cpu`, `opencl` (Canopy's backends), `openblas`, `clblast`.
        let backend: String
        let seconds: Double
        let rate: Double
        let unit: String
    }

    private(set) var rows: [Row] = []

    mutating func add(_ benchmark: Benchmark, group: String, seconds: Double) {
        let rate = benchmark.work / seconds / benchmark.unit.scale
        rows.append(Row(title: benchmark.title, group: group, backend: benchmark.engine, seconds: seconds,
                        rate: rate, unit: benchmark.unit.name))
        let reference = rows.first { $0.group == group }!
        let ratio = seconds / reference.seconds
        let ratioText = reference.backend == benchmark.engine ? "reference"
            : String(format: "%.2f", ratio) + "× the time of \(reference.backend)"
        let title = benchmark.title.padding(toLength: max(52, benchmark.title.count), withPad: " ", startingAt: 0)
        print(title + String(format: " %11.1f µs %10.2f ", seconds * 1e6, rate) + "\(benchmark.unit.name)   \(ratioText)")
        fflush(stdout)
    }

    /// The rate of `engine` in `group`, if it ran.
    func rate(_ group: String, _ engine: String) -> Double? {
        rows.first { $0.group == group && $0.backend == engine }?.rate
    }

    func writeJSON(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(rows).write(to: URL(fileURLWithPath: path))
    }
}
