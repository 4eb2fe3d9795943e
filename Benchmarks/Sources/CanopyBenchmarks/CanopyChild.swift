import Canopy
import Foundation

/// One Canopy measurement in a process of its own (`canopy-benchmarks canopy-child …`, which the `workloads`
/// suite runs for every Canopy backend and workload), so that its peak resident memory is Canopy's alone, as
/// the peers' is theirs, and so that a cold OpenCL start really is cold. Prints one JSON line (``EngineResult``).
///
/// The protocol is the peers' (peers/common.py): the backend is opened, then the cold first step is timed
/// (building the model, plan and kernels, plus one training step), then a warm-up of `warmup` steps lasting at
/// least `warmupSeconds`, then `reps` repetitions of `steps` steps. Peak memory is read right after the
/// repetitions; only then is one more step traced for the step profile (kernel calls, transfers), on a trainer
/// of its own, so that its memory is not counted.
struct CanopyChild {
    let workload: Workload
    let backendName: String
    /// `Benchmarks/`.
    let directory: URL
    var steps = 50, reps = 7, warmup = 10
    var warmupSeconds = 2.0
    /// Where to write the initial parameters (the first Canopy process of a workload does, for the peers).
    var parameters: URL?
    /// Stop after the first step (the cold-start process of the OpenCL backend).
    var firstStepOnly = false

    func run() throws -> EngineResult {
        guard let choice = BackendChoice(rawValue: backendName) else { throw ValidationFailure("unknown backend '\(backendName)'") }
        let opening = now()
        let backend = try choice.open().backend
        let opened = now()
        let spec = try ModelFile.load(contentsOf: directory.appendingPathComponent("workloads/\(workload.id).yaml"))
        let started = now()
        let trainer = try Trainer(spec: spec, backend: backend)
        let built = now()
        if let parameters { try TrainingCheckpoint(parameters: trainer.parameters).write(to: parameters) }
        let firstStarted = now()
        let losses = try trainer.runSteps(1)[0]
        try backend.synchronize()
        let first = (built - started) + (now() - firstStarted)
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let openCL = backend as? OpenCLBackend
        var result = EngineResult(engine: "canopy-\(backendName)", workload: workload.id, version: "canopy", losses: losses,
                                  first_step_s: first, reps_s: [], samples_per_s: 0, threads: threads, peak_rss_mb: nil)
        result.backend_open_s = opened - opening
        result.device = backend.deviceDescription
        if let openCL {
            result.programs_built = openCL.compileStatistics.builtFromSource
            let statistics = openCL.compileStatistics
            result.programs_from_cache = statistics.loadedFromBinary + statistics.builtFromDriverCache
        }
        if firstStepOnly {
            result.peak_rss_mb = Self.peakResidentMB()
            return result
        }
        let warmStart = now()
        repeat {
            try trainer.runSteps(warmup, firstBatch: 1)
            try backend.synchronize()
        } while now() - warmStart < warmupSeconds
        let launchesBefore = openCL?.launchCount ?? 0
        for _ in 0..<reps {
            let start = now()
            try trainer.runSteps(steps, firstBatch: 1)
            try backend.synchronize()
            result.reps_s.append((now() - start) / Double(steps))
        }
        result.samples_per_s = Double(workload.batchSize) / result.reps_s.sorted()[reps / 2]
        result.peak_rss_mb = Self.peakResidentMB()
        if let openCL { result.device_launches_per_step = Double(openCL.launchCount - launchesBefore) / Double(reps * steps) }
        try measureEpochs(of: spec, data: trainer.data, on: backend, into: &result)

        let profile = try StepProfile.measure(try RunPlan(spec, device: backend), on: backend)
        result.kernel_calls_per_step = profile.kernelCallCount
        result.uploads_per_step = profile.uploads
        result.uploaded_bytes_per_step = profile.uploadedBytes
        // Losses and outputs come back several steps at once: the profile counts downloads over its steps.
        result.downloads_per_step = Double(profile.downloads) / Double(profile.steps)
        result.downloaded_bytes_per_step = profile.downloadedBytes / profile.steps
        result.buffers_allocated_per_step = profile.buffersAllocated
        return result
    }

    /// Rounds of the workload's rows in one epoch of the whole-epoch measurement: an epoch of 160 steps, validated
    /// on the workload's 16 batches (a tenth of the epoch's rows), as a training set would be split.
    static let epochRounds = 10

    /// Times three whole epochs as `canopy train` runs them (steps, validation, gradient diagnostics and the commit
    /// of the run folder's files, in a temporary folder) and validation alone after each. The epochs train on the
    /// workload's rows ``epochRounds`` times over and validate on them once: the fixed work of an epoch (its
    /// diagnostics and commit) weighs on it as it would on a real epoch, not on one of 16 steps.
    private func measureEpochs(of spec: ModelSpec, data: ModelData, on backend: Backend,
                               into result: inout EngineResult) throws {
        let rows = Array(0..<data.train.rowCount)
        let epochData = ModelData(train: data.train.subset(rows: Array(repeating: rows, count: Self.epochRounds).flatMap { $0 }),
                                  validation: data.train)
        let trainer = try Trainer(plan: RunPlan(spec, data: epochData, device: nil), backend: backend)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-bench-epochs-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = try RunOutput(folder: try RunFolder(path: path, start: .overwrite), trainer: trainer)
        var epochs: [Double] = [], validations: [Double] = [], steps: [Double] = []
        // Epoch after epoch, as `canopy train` runs them: each epoch's commit runs in the background while the next
        // epoch trains, and the next epoch's end waits for it (so the epochs' times include what did not overlap).
        // Between epochs, the same number of steps alone, so that both see the same load on the machine.
        for _ in 0..<3 {
            let start = now()
            let report = try trainer.runEpoch()
            try output.trainer(trainer, didFinishEpoch: report)
            epochs.append(now() - start)
            let stepping = now()
            try trainer.runSteps(trainer.stepsPerEpoch)
            try backend.synchronize()
            steps.append(now() - stepping)
        }
        try output.finish()
        for _ in 0..<3 {
            let validating = now()
            _ = try trainer.evaluate(trainer.data.validation)
            validations.append(now() - validating)
        }
        result.epoch_s = epochs.sorted()[1]
        result.epoch_steps_s = steps.sorted()[1]
        result.validation_s = validations.sorted()[1]
        result.epoch_steps = trainer.stepsPerEpoch
    }

    /// The process's peak resident memory (`getrusage`'s `ru_maxrss`, kilobytes on Linux), in MB as the peers
    /// report it.
    static func peakResidentMB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / 1024 / 1024
        #endif
    }

    private func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}

/// A child's error, printed on its standard error for the parent to show.
struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
