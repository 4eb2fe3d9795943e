import CanopyCore

/// What one training step asks of a backend, measured rather than estimated: the run is set up on a backend
/// (the one `canopy check --plan --backend` names, cpu unless told) behind a ``TracingBackend``, one step warms it up (buffers a
/// step makes once), and the next ``steps`` steps are counted — kernel calls by kernel, host-to-device and
/// device-to-host copies with their bytes, and buffers allocated (none should be, once warm). Steps read their
/// losses and outputs back several at a time (see ``Trainer``), so downloads are counted over all the steps. The
/// same plan makes the same kernel calls on every backend (an OpenCL call may be several device launches, such as
/// a grouped convolution's).
public struct StepProfile: Sendable {
    /// The steps measured.
    public var steps: Int
    /// Kernel calls in one step, by kernel name, most frequent first (ties by name).
    public var kernelCalls: [(name: String, count: Int)]
    /// Host-to-device copies in one step, and their bytes.
    public var uploads: Int, uploadedBytes: Int
    /// Device-to-host copies over all ``steps`` steps (each a wait for the device), and their bytes.
    public var downloads: Int, downloadedBytes: Int
    /// Device buffers allocated during the measured step.
    public var buffersAllocated: Int
    /// Wall time of one step as the trainer runs it (kernels queued back to back), in seconds.
    public var stepSeconds: Double
    /// Time in each kernel in one step, by kernel name, most first: measured in further steps that wait for every
    /// kernel call, so the shares are right though their sum exceeds ``stepSeconds`` on a device that overlaps
    /// work with the host.
    public var kernelSeconds: [(name: String, seconds: Double)]
    /// The fusions the plan made, for people: stacked experts computed as one product, dense layers' products with
    /// their bias and activation, softmax gates in their mixtures' kernels, softmax with its cross-entropy in one
    /// kernel, one optimizer update over the parameter arena.
    public var fusions: [String] = []

    /// The processes sharing each batch (1 unless data-parallel).
    public var processes = 1
    /// Data-parallel: gradient bytes each process sums with the others in one step, and the seconds a step waits
    /// for those sums beyond the backward pass they overlap with.
    public var communicatedBytes = 0, communicationWaitSeconds = 0.0
    /// Every kernel call of the step.
    public var kernelCallCount: Int { kernelCalls.reduce(0) { $0 + $1.count } }

    /// Sets up `plan`'s run on `backend`, takes one step to warm up and measures the next `steps` (at most as
    /// many as the trainer reads back at once).
    ///
    /// With a `group` of several processes (every one calling it), the step is a data-parallel one: the
    /// profile adds what summing the gradients costs.
    public static func measure(_ plan: RunPlan, on backend: Backend, steps: Int = 8,
                               group: ProcessGroup = LocalProcessGroup()) throws -> StepProfile {
        let tracer = TracingBackend(wrapping: backend)
        let trainer = try Trainer(plan: plan, backend: tracer, group: group)
        let batches = trainer.stepsPerEpoch
        try trainer.runSteps(1)
        try tracer.synchronize()
        tracer.reset()
        let measured = max(1, min(steps, trainer.readings.capacity))
        try group.barrier()   // every process starts the clock together
        let communicated = trainer.communication
        let clock = ContinuousClock(), start = clock.now
        try trainer.runSteps(measured, firstBatch: batches > 1 ? 1 : 0)
        try tracer.synchronize()
        let stepSeconds = (clock.now - start).seconds / Double(measured)
        let communication = trainer.communication
        let calls = tracer.kernelCalls.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let bytes = MemoryLayout<Float>.size
        var profile = StepProfile(steps: measured, kernelCalls: calls.map { (name: $0.key, count: $0.value / measured) },
                                  uploads: tracer.uploads / measured, uploadedBytes: tracer.uploadedElements * bytes / measured,
                                  downloads: tracer.downloads, downloadedBytes: tracer.downloadedElements * bytes,
                                  buffersAllocated: tracer.buffersMade, stepSeconds: stepSeconds, kernelSeconds: [])
        profile.fusions = Self.fusions(in: plan, calls: profile.kernelCalls)
        let accumulating = trainer.steps.executor.plannedKernels.filter(\.accumulates).count
        if accumulating > 0 {
            profile.fusions.append("\(accumulating) gradient term\(accumulating == 1 ? "" : "s") computed into \(accumulating == 1 ? "its" : "their") "
                + "sum, no add (task heads' input gradients, mixtures' expert gradients)")
        }
        profile.processes = group.size
        profile.communicatedBytes = (communication.bytes - communicated.bytes) / measured
        profile.communicationWaitSeconds = (communication.waitSeconds - communicated.waitSeconds) / Double(measured)
        tracer.reset()
        tracer.timesKernels = true
        try trainer.runSteps(measured, firstBatch: batches > 1 ? 1 : 0)
        profile.kernelSeconds = tracer.kernelSeconds.map { (name: $0.key, seconds: $0.value / Double(measured)) }
            .sorted { $0.seconds != $1.seconds ? $0.seconds > $1.seconds : $0.name < $1.name }
        return profile
    }

    /// A few lines for people, as `canopy check --plan` prints them.
    public var lines: [String] {
        let top = kernelCalls.prefix(12).map { "\($0.name) \($0.count)" }.joined(separator: ", ")
        let more = kernelCalls.count > 12 ? ", …" : ""
        var lines = [
            "step: \(kernelCallCount) kernel calls (\(top)\(more))",
            "step: \(uploads) uploads (\(MemoryPlan.format(uploadedBytes))), \(buffersAllocated) buffers allocated after "
                + "warm-up; \(downloads) download\(downloads == 1 ? "" : "s") (\(MemoryPlan.format(downloadedBytes))) in "
                + "\(steps) steps (losses and outputs are read back several steps at once)",
            "step: \(Self.milliseconds(stepSeconds)) a step; time by kernel (each call waited for): \(timeShares)",
            "fusions: " + (fusions.isEmpty ? "none" : fusions.joined(separator: "; ")),
        ]
        if processes > 1 {
            let waited: String = Self.milliseconds(communicationWaitSeconds)
            lines.append("data-parallel: \(processes) processes; each sums \(MemoryPlan.format(communicatedBytes)) of "
                + "gradients a step with the others, waiting \(waited) beyond the backward pass for it")
        }
        return lines
    }

    private static func fusions(in plan: RunPlan, calls: [(name: String, count: Int)]) -> [String] {
        let graph = plan.model.graph
        var found: [String] = []
        let stacks = graph.parameterStacks
        if !stacks.isEmpty {
            let sizes = Set(stacks.map(\.count)).sorted().map(String.init).joined(separator: ", ")
            found.append("\(stacks.count) stacks of \(sizes) parameters (experts) each computed as one product, their "
                + "stacks views of the parameter arena")
        }
        func count(_ prefix: String) -> Int { calls.filter { $0.name.hasPrefix(prefix) }.reduce(0) { $0 + $1.count } }
        let epilogues = count("matmulBias")
        if epilogues > 0 {
            found.append("\(epilogues) product\(epilogues == 1 ? "" : "s") with \(epilogues == 1 ? "its" : "their") bias and "
                + "activation in one kernel (dense layers)")
        }
        let convolutions = count("conv2dBias")
        if convolutions > 0 {
            found.append("\(convolutions) convolution\(convolutions == 1 ? "" : "s") with \(convolutions == 1 ? "its" : "their") "
                + "bias and activation in one kernel")
        }
        let gradients = count("unaryBackwardBiasGradient")
        if gradients > 0 {
            found.append("\(gradients) activation derivative\(gradients == 1 ? "" : "s") with \(gradients == 1 ? "its" : "their") "
                + "bias gradient in one kernel")
        }
        let gates = count("mixtureSoftmax"), gateGradients = count("mixtureBackwardLogits")
        if gates + gateGradients > 0 {
            found.append("\(gates) softmax gate\(gates == 1 ? "" : "s") in \(gates == 1 ? "its mixture's" : "their mixtures'") "
                + "kernel, \(gateGradients) gates gradient\(gateGradients == 1 ? "" : "s") through the softmax in one kernel")
        }
        let softmaxLosses = graph.nodes.filter { if case .softmaxCrossEntropy = $0.op { return true } else { return false } }.count
        if softmaxLosses > 0 { found.append("softmax with cross-entropy in one kernel (\(softmaxLosses) task\(softmaxLosses == 1 ? "" : "s"))") }
        let updates = calls.filter { ["adamUpdate", "sgdUpdate", "rmspropUpdate"].contains($0.name) }.reduce(0) { $0 + $1.count }
        let trained = graph.trainableParameters.count
        if updates > 0, updates < trained {
            found.append("\(updates) optimizer update\(updates == 1 ? "" : "s") over \(trained) trained parameters (an arena)")
        }
        return found
    }

    /// The kernels taking most of a step's time, with their share of the time in kernels.
    private var timeShares: String {
        let total = kernelSeconds.reduce(0) { $0 + $1.seconds }
        guard total > 0 else { return "none" }
        let shown = kernelSeconds.prefix(8).map { kernel in
            let share = Int((kernel.seconds / total * 100).rounded())
            return "\(kernel.name) \(share) % (\(Self.milliseconds(kernel.seconds)))"
        }
        return shown.joined(separator: ", ") + (kernelSeconds.count > 8 ? ", …" : "")
    }

    private static func milliseconds(_ seconds: Double) -> String {
        let value = seconds * 1000
        return value >= 10 ? "\(Int(value.rounded())) ms" : "\((value * 100).rounded() / 100) ms"
    }
}
