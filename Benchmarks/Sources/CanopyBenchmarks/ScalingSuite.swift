import Canopy
import Foundation

/// `scaling`: data-parallel training on Open MPI on this machine. W1–W3 with 1 and 2 processes under
/// `mpirun`, measured by `canopy check --plan` (a warm training step, and what summing the gradients costs):
///
/// - weak scaling, as data-parallel training is used: every process keeps the workload's batch, so 2 processes
///   train global batches twice as large (`train.batch_size` is the global batch);
/// - the reference is 1 process on 1 core (`CANOPY_CPU_THREADS=1`): each of the 2 processes gets one of the two
///   cores, so efficiency = samples/s of 2 processes ÷ (2 × samples/s of 1 process on 1 core); 1 process on both
///   cores is shown beside it (what a user of one machine gets without mpirun).
///
/// Needs the MPI build of `canopy` (`swift build -c release --traits MPI --scratch-path .build-mpi` in the
/// repository) and Open MPI's `mpirun`; says what is missing and skips otherwise.
struct ScalingSuite {
    let directory: URL
    /// Runs of each configuration; the median step is reported.
    var reps = 5

    struct Row: Codable {
        var workload: String
        var processes: Int
        var threadsPerProcess: Int
        var globalBatch: Int
        var stepMilliseconds: Double
        var samplesPerSecond: Double
        var gradientBytesPerStep: Double
        var waitMilliseconds: Double
    }

    var canopy: URL { directory.deletingLastPathComponent().appendingPathComponent(".build-mpi/release/canopy") }

    func run(workloads: [String]) throws -> [Row] {
        guard let mpirun = Self.which("mpirun") else {
            print("# scaling SKIPPED: no mpirun (apt-get install openmpi-bin libopenmpi-dev)")
            return []
        }
        guard FileManager.default.isExecutableFile(atPath: canopy.path) else {
            print("# scaling SKIPPED: no \(canopy.path); build it in the repository with "
                + "`swift build -c release --traits MPI --scratch-path .build-mpi`")
            return []
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-scaling-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var rows: [Row] = []
        print("# \(Date()): weak scaling, median of \(reps) runs of `mpirun -np N canopy check --plan --backend cpu`")
        print("workload | processes × threads | global batch | step (ms) | samples/s | gradients summed / step | wait / step (ms)")
        for id in workloads {
            guard let workload = Workload.all.first(where: { $0.id == id }) else { throw ScalingError("unknown workload '\(id)'") }
            // The workload's data as `workloads` writes it, and its model file pointing there from the scratch folder.
            let data = directory.appendingPathComponent(".scratch")
            try workload.writeData(to: data.appendingPathComponent("data/\(id)"))
            let source = try String(contentsOf: directory.appendingPathComponent("workloads/\(id).yaml"), encoding: .utf8)
                .replacingOccurrences(of: "../.scratch/", with: data.path + "/")
            guard let batch = Self.batchSize(in: source) else { throw ScalingError("no batch_size in \(id).yaml") }
            for (processes, threads) in [(1, 1), (1, 2), (2, 1)] {
                let model = scratch.appendingPathComponent("\(id)-\(processes).yaml")
                try Self.withBatchSize(batch * processes, in: source)
                    .write(to: model, atomically: true, encoding: .utf8)
                var measured: [Row] = []
                for _ in 0..<reps {
                    var arguments = ["-np", String(processes), "--oversubscribe", "--bind-to", "none"]
                    if getuid() == 0 { arguments.append("--allow-run-as-root") }
                    arguments += ["-x", "CANOPY_CPU_THREADS=\(threads)", canopy.path, "check", model.path, "--plan",
                                  "--backend", "cpu"]
                    let (status, output) = Peers.run(mpirun, arguments, environment: ["CANOPY_CPU_THREADS": String(threads)])
                    guard status == 0, let row = Self.row(output, workload: id, processes: processes, threads: threads,
                                                          globalBatch: batch * processes) else {
                        throw ScalingError("mpirun -np \(processes) canopy check failed (\(status)):\n\(output.suffix(2000))")
                    }
                    measured.append(row)
                }
                let row = measured.sorted { $0.stepMilliseconds < $1.stepMilliseconds }[measured.count / 2]
                rows.append(row)
                print(String(format: "%@ | %d × %d | %d | %.2f | %.0f | %@ | %.3f", id, processes, threads, row.globalBatch,
                             row.stepMilliseconds, row.samplesPerSecond,
                             MemoryPlan.format(Int(row.gradientBytesPerStep)), row.waitMilliseconds))
            }
            if let one = rows.first(where: { $0.workload == id && $0.processes == 1 && $0.threadsPerProcess == 1 }),
               let both = rows.first(where: { $0.workload == id && $0.processes == 1 && $0.threadsPerProcess == 2 }),
               let two = rows.first(where: { $0.workload == id && $0.processes == 2 }) {
                print(String(format: "%@: scaling efficiency %.2f (2 processes against 2 × 1 process on 1 core); "
                    + "2 processes against 1 process on both cores: %.2f×", id,
                    two.samplesPerSecond / (2 * one.samplesPerSecond), two.samplesPerSecond / both.samplesPerSecond))
            }
        }
        try project(rows, workloads: workloads, mpirun: mpirun)
        return rows
    }

    var probe: URL { canopy.deletingLastPathComponent().appendingPathComponent("canopy-mpi-probe") }

    /// Fits α and β to allreduces timed here (`canopy-mpi-probe bench` over 2 processes, on shared memory and on
    /// TCP), then projects each workload's efficiency to 8, 64 and 512 processes (``ScalingModel``) on those and on
    /// the stated networks, with the bucket size that maximises overlap.
    func project(_ rows: [Row], workloads: [String], mpirun: URL) throws {
        var networks: [ScalingModel.Network] = []
        let transports = [("here, shared memory", ["--mca", "btl", "self,vader", "--mca", "btl_vader_single_copy_mechanism", "none"]),
                          ("here, TCP loopback", ["--mca", "btl", "self,tcp"])]
        for (name, transport) in transports {
            guard FileManager.default.isExecutableFile(atPath: probe.path) else { break }
            var arguments = ["-np", "2", "--oversubscribe", "--bind-to", "none"] + transport
            if getuid() == 0 { arguments.append("--allow-run-as-root") }
            let (status, output) = Peers.run(mpirun, arguments + [probe.path, "bench"])
            // `bench ranks=2 floats=N bytes=B seconds=S GB/s=R`, one line a size.
            let samples = output.split(separator: "\n").compactMap { line -> (bytes: Double, seconds: Double)? in
                guard line.hasPrefix("bench ") else { return nil }
                var fields: [String: Double] = [:]
                for field in line.split(separator: " ") {
                    let parts = field.split(separator: "=")
                    if parts.count == 2 { fields[String(parts[0])] = Double(parts[1]) }
                }
                guard let bytes = fields["bytes"], let seconds = fields["seconds"] else { return nil }
                return (bytes, seconds)
            }
            guard status == 0, let network = ScalingModel.fit(samples, processes: 2, name: name) else {
                print("# \(name): allreduce timing failed (\(status)):\n\(output.suffix(1000))")
                continue
            }
            print(String(format: "# allreduce %@: α %.1f µs, %.2f GB/s a link (%d sizes, 2 processes: %@)",
                         name, network.latency * 1e6, network.bytesPerSecond / 1e9, samples.count,
                         samples.map { String(format: "%.0f B %.1f µs", $0.bytes, $0.seconds * 1e6) }.joined(separator: ", ")))
            networks.append(network)
        }
        networks += ScalingModel.statedNetworks
        print("projection (α–β ring allreduce, weak scaling, compute per process as measured here on one core, "
            + "backward = last 2/3 of it): efficiency at 8 / 64 / 512 processes, best bucket")
        for id in workloads {
            guard let one = rows.first(where: { $0.workload == id && $0.processes == 1 && $0.threadsPerProcess == 1 }),
                  let two = rows.first(where: { $0.workload == id && $0.processes == 2 }) else { continue }
            let model = ScalingModel(compute: one.stepMilliseconds / 1000, gradientBytes: two.gradientBytesPerStep)
            for network in networks {
                let cells = [8, 64, 512].map { p -> String in
                    let best = model.best(processes: p, network: network)
                    return String(format: "%.2f (%@)", best.efficiency, MemoryPlan.format(Int(best.bucket)))
                }
                print("\(id) | \(network.name) | " + cells.joined(separator: " | "))
            }
        }
    }

    /// The row `canopy check --plan` printed: "step: X ms a step" and, with several processes, "each sums B of
    /// gradients a step …, waiting W ms …".
    static func row(_ output: String, workload: String, processes: Int, threads: Int, globalBatch: Int) -> Row? {
        guard let step = number(after: "step: ", before: " a step", in: output) else { return nil }
        let bytes = output.range(of: "each sums ").flatMap { start in
            output[start.upperBound...].split(separator: " ").prefix(2).joined(separator: " ")
        }.flatMap(parseBytes) ?? 0
        let wait = number(after: "waiting ", before: " beyond", in: output) ?? 0
        return Row(workload: workload, processes: processes, threadsPerProcess: threads, globalBatch: globalBatch,
                   stepMilliseconds: step, samplesPerSecond: Double(globalBatch) / (step / 1000),
                   gradientBytesPerStep: bytes, waitMilliseconds: wait)
    }

    /// The milliseconds in "<prefix>N ms<suffix>" or "<prefix>N.NN ms<suffix>".
    static func number(after prefix: String, before suffix: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") {
            guard let start = line.range(of: prefix), let end = line.range(of: suffix, range: start.upperBound..<line.endIndex)
            else { continue }
            let field = line[start.upperBound..<end.lowerBound].replacingOccurrences(of: " ms", with: "")
            if let value = Double(field.trimmingCharacters(in: .whitespaces)) { return value }
        }
        return nil
    }

    static func parseBytes(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 2, let value = Double(parts[0]) else { return nil }
        let units = ["B": 1.0, "KiB": 1024, "MiB": 1_048_576, "GiB": 1_073_741_824]
        return units[String(parts[1])].map { value * $0 }
    }

    /// A program on PATH.
    static func which(_ name: String) -> URL? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static func batchSize(in source: String) -> Int? {
        for line in source.split(separator: "\n") where line.trimmingCharacters(in: .whitespaces).hasPrefix("batch_size:") {
            return Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    static func withBatchSize(_ batch: Int, in source: String) -> String {
        source.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("batch_size:") else { return String(line) }
            return String(line.prefix { $0 == " " }) + "batch_size: \(batch)"
        }.joined(separator: "\n")
    }
}

/// A scaling run that failed, with what it printed.
struct ScalingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
