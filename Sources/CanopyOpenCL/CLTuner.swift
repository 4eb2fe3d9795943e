import CanopyCore
import Foundation

extension OpenCLBackend {
    /// Measures kernel tunables on a device and writes the fastest correct choices to its tuning file, which
    /// every later ``OpenCLBackend`` with the `.automatic` profile and the same cache directory then uses.
    ///
    /// Groups, each started from the choices before it: the matmul register block (MM_TM × MM_TN), the matmul
    /// work-group shape, the local-memory tiled matmul (tile sizes that fit the device's limits) against the
    /// register-blocked one, the reduction work-group size and vector width, and the element-wise work-group
    /// size. Each candidate is built with its own `-D` options, run once and checked against the results of the
    /// device's default choices (a candidate with a different result, or that fails to build or run, is dropped
    /// and reported, never chosen), then timed: the median of five rounds of the group's workloads, the
    /// candidates taking turns within each round (one three times slower than the fastest drops out). Matrix
    /// products are timed at training shapes: 128×512×784, 128×784×512 with Bᵀ, 784×512×128 with Aᵀ (an MLP's
    /// first layer forward and backward), 128×16×64 and 512×512×512.
    ///
    /// - Parameters:
    ///   - selector: the device to tune.
    ///   - options: kernel sources and the cache directory the file goes to (its `tuning` is ignored).
    ///   - seconds: the time budget, shared out between the groups (the choice in force is always measured, so a
    ///     tiny budget still writes a valid file; candidates past the budget are reported as skipped).
    ///   - progress: called with a line of text as each candidate is measured.
    /// - Returns: every group's candidates with their times, the choices and the file written.
    /// - Throws: ``BackendError`` when the device cannot be opened, the default choices fail, or the file cannot
    ///   be written.
    public static func tune(device selector: OpenCLDeviceSelector = .environment,
                            options: OpenCLBackendOptions = .environment(), seconds: Double = 60,
                            progress: ((String) -> Void)? = nil) throws -> OpenCLTuningReport {
        var tuner = try CLTuner(device: selector, options: options)
        tuner.progress = progress
        return try tuner.run(seconds: seconds)
    }

    /// The device's tuning file in `options`' cache directory if one is there and usable (the kernel sources it
    /// was measured on are these, and its values suit the device); nil otherwise. `canopy train --tune` tunes
    /// when this is nil.
    public static func tuningFile(device selector: OpenCLDeviceSelector = .environment,
                                  options: OpenCLBackendOptions = .environment()) throws -> URL? {
        guard let directory = options.cacheDirectory else { return nil }
        let info = try CLDevice(selector: selector, environment: ProcessInfo.processInfo.environment).info
        let url = CLTuningFile.url(directory: directory, device: info)
        let kernels = try KernelSources(directory: options.kernelDirectory).fingerprint()
        return CLTuningFile.load(url, kernels: kernels, device: info) == nil ? nil : url
    }
}

/// The tuner behind ``OpenCLBackend/tune(device:options:seconds:progress:)``: one backend whose tunables it
/// swaps per candidate (programs are cached per set of `-D` options), workloads on fixed random data, and the
/// default choices' results to check every candidate against.
struct CLTuner {
    /// One timed piece of work: enqueues kernels writing `output`; the result read back is checked.
    struct Workload {
        var name: String
        var output: DeviceBuffer
        var count: Int
        /// Largest accepted |candidate − default| for a default result.
        var tolerance: ([Float]) -> Float
        var enqueue: (OpenCLBackend) throws -> Void
    }

    let backend: OpenCLBackend
    let options: OpenCLBackendOptions
    let defaults: CLTunables
    var progress: ((String) -> Void)?
    var repetitions = 5
    /// Matrix products timed (m, n, k, Aᵀ, Bᵀ).
    var matmulShapes: [(Int, Int, Int, Bool, Bool)] = [
        (128, 512, 784, false, false), (128, 784, 512, false, true), (784, 512, 128, true, false),
        (128, 16, 64, false, false), (512, 512, 512, false, false),
    ]
    /// Element counts of the reduction and element-wise workloads.
    var vectorCount = 1 << 20
    /// Test hook: may change a candidate's result (group, label, values) before it is checked.
    var alterResult: ((String, String, inout [Float]) -> Void)?

    init(device selector: OpenCLDeviceSelector, options: OpenCLBackendOptions) throws {
        // Programs only in memory: saving a binary per candidate would cost more than the measuring.
        var memoryOnly = options
        memoryOnly.cacheDirectory = nil
        memoryOnly.tuning = .automatic
        backend = try OpenCLBackend(device: selector, options: memoryOnly, tunables: nil)
        self.options = options
        defaults = CLTunables(device: backend.device, profile: .automatic)
    }

    func run(seconds: Double) throws -> OpenCLTuningReport {
        let start = Date()
        let matmul = try matmulWorkloads(), reduce = try reduceWorkloads(), elementwise = try elementwiseWorkloads()
        var references: [String: [Float]] = [:]
        backend.tunables = defaults
        for workload in matmul + reduce + elementwise {
            references[workload.name] = try result(of: workload)
        }
        var current = defaults
        var groups: [OpenCLTuningGroup] = []
        let info = backend.deviceInfo
        let plan: [(String, Double, [CLTuner.Workload], (CLTunables) -> [CLTunables])] = [
            ("matmul register block", 0.25, matmul, { CLTuner.registerBlocks(from: $0) }),
            ("matmul work-group", 0.45, matmul, { CLTuner.workGroups(from: $0, info: info) }),
            ("matmul kernel", 0.8, matmul, { CLTuner.matmulKernels(from: $0, info: info) }),
            ("reduction", 0.9, reduce, { CLTuner.reductions(from: $0, info: info) }),
            ("element-wise", 1.0, elementwise, { CLTuner.elementwiseGroups(from: $0, info: info) }),
        ]
        for (name, share, workloads, candidates) in plan {
            let deadline = start.addingTimeInterval(seconds * share)
            let (group, chosen) = try measure(name, [current] + candidates(current).filter { $0 != current },
                                              workloads, references, deadline: deadline)
            groups.append(group)
            current = chosen
        }
        // The defaults against the choices on every workload, alternating, so that both see the same load.
        let all = matmul + reduce + elementwise
        var defaultRounds: [Double] = [], tunedRounds: [Double] = []
        for _ in 0..<repetitions {
            backend.tunables = defaults
            defaultRounds.append(try time(all, rounds: 1))
            backend.tunables = current
            tunedRounds.append(try time(all, rounds: 1))
        }
        let defaultSeconds = defaultRounds.sorted()[defaultRounds.count / 2]
        let tunedSeconds = tunedRounds.sorted()[tunedRounds.count / 2]
        backend.tunables = current
        var file: URL?
        if let directory = options.cacheDirectory {
            let kernels = try KernelSources(directory: options.kernelDirectory).fingerprint()
            file = try CLTuningFile.write(current, directory: directory, kernels: kernels, device: info)
        }
        return OpenCLTuningReport(device: backend.deviceDescription, groups: groups, defaultSeconds: defaultSeconds,
                                  tunedSeconds: tunedSeconds, file: file)
    }

    /// Measures `candidates` (the first is the choice in force, always measured) and returns the group and the
    /// fastest candidate whose results match `references`.
    ///
    /// First each candidate is built, run once (which also compiles what a driver compiles at first launch) and
    /// checked; then the candidates that passed are timed in rounds, one timing of each per round, so that a
    /// change in the machine's load falls on all of them alike. A candidate more than three times slower than the
    /// fastest after the first round is not timed again; rounds stop at ``repetitions`` or at the deadline (at
    /// least one round is always timed).
    private func measure(_ name: String, _ candidates: [CLTunables], _ workloads: [Workload],
                         _ references: [String: [Float]], deadline: Date) throws -> (OpenCLTuningGroup, CLTunables) {
        var outcomes: [OpenCLTuningCandidate.Outcome] = []
        let labels = candidates.map { CLTuner.label($0, group: name) }
        for (index, candidate) in candidates.enumerated() {
            if index > 0 && Date() >= deadline {
                outcomes.append(.skipped)
                continue
            }
            backend.tunables = candidate
            var outcome: OpenCLTuningCandidate.Outcome
            do {
                outcome = try check(name, labels[index], workloads, references) ?? .measured(seconds: 0)
            } catch {
                outcome = .failed("\(error)")
            }
            if index == 0, case .measured = outcome {} else if index == 0 {
                throw BackendError.deviceFailure(backend: "opencl",
                    message: "tuning \(name): the choice in force (\(labels[index])) fails: \(outcome)")
            }
            if case .measured = outcome {} else { progress?("\(name): \(labels[index]): \(CLTuner.describe(outcome))") }
            outcomes.append(outcome)
        }
        var times: [Int: [Double]] = [:]
        for index in outcomes.indices { if case .measured = outcomes[index] { times[index] = [] } }
        for round in 0..<repetitions where round == 0 || Date() < deadline {
            let fastest = times.values.compactMap(\.first).min() ?? .infinity
            for index in times.keys.sorted() where round == 0 || times[index]![0] <= 3 * fastest {
                backend.tunables = candidates[index]
                times[index]!.append(try time(workloads, rounds: 1))
            }
        }
        var medians: [Int: Double] = [:]
        for (index, rounds) in times {
            medians[index] = rounds.sorted()[rounds.count / 2]
            outcomes[index] = .measured(seconds: medians[index]!)
        }
        // The fastest; on a tie, the earlier (the choice in force first).
        let best = medians.min { ($0.value, $0.key) < ($1.value, $1.key) }!.key
        for index in times.keys.sorted() {
            progress?("\(name): \(labels[index]): \(CLTuner.describe(outcomes[index]))")
        }
        let measured = zip(labels, outcomes).map { OpenCLTuningCandidate(label: $0, outcome: $1) }
        let workloadNames = workloads.map(\.name).joined(separator: ", ")
        return (OpenCLTuningGroup(name: name, workloads: workloadNames, candidates: measured, chosen: labels[best]),
                candidates[best])
    }

    /// nil when every workload's result matches the default's, else why not.
    private func check(_ group: String, _ label: String, _ workloads: [Workload],
                       _ references: [String: [Float]]) throws -> OpenCLTuningCandidate.Outcome? {
        for workload in workloads {
            var values = try result(of: workload)
            alterResult?(group, label, &values)
            let reference = references[workload.name]!
            let limit = workload.tolerance(reference)
            var worst: Float = 0, at = 0
            for i in reference.indices {
                let difference = abs(values[i] - reference[i])
                if !(difference <= worst) { worst = difference; at = i }   // NaN counts as the worst
                if difference.isNaN { break }
            }
            if !(worst <= limit) {
                return .wrongResult("\(workload.name): element \(at) is \(values[at]), the default gives \(reference[at])")
            }
        }
        return nil
    }

    /// Runs `workload` once with its output pre-filled with NaN and reads the output back.
    private func result(of workload: Workload) throws -> [Float] {
        try backend.upload([Float](repeating: .nan, count: workload.count), to: workload.output)
        try workload.enqueue(backend)
        var values = [Float](repeating: 0, count: workload.count)
        try values.withUnsafeMutableBufferPointer { try backend.download(workload.output, offset: 0, into: $0) }
        return values
    }

    /// The median seconds of `rounds` rounds of every workload (each round ends with a synchronize).
    private func time(_ workloads: [Workload], rounds: Int) throws -> Double {
        var seconds: [Double] = []
        for _ in 0..<rounds {
            let begin = DispatchTime.now().uptimeNanoseconds
            for workload in workloads { try workload.enqueue(backend) }
            try backend.synchronize()
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9)
        }
        return seconds.sorted()[seconds.count / 2]
    }

    static func describe(_ outcome: OpenCLTuningCandidate.Outcome) -> String {
        switch outcome {
        case let .measured(seconds): return String(format: "%.2f ms", seconds * 1000)
        case let .wrongResult(message): return "wrong result: \(message)"
        case let .failed(message): return "failed: \(message)"
        case .skipped: return "skipped"
        }
    }
}
