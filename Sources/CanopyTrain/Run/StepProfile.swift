import CanopyCore

/// What one training step asks of a backend, measured rather than estimated: the run is set up on a backend
/// (Canopy's CPU backend for `canopy check --plan`) behind a ``TracingBackend``, one step warms it up (buffers a
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

    /// Every kernel call of the step.
    public var kernelCallCount: Int { kernelCalls.reduce(0) { $0 + $1.count } }

    /// Sets up `plan`'s run on `backend`, takes one step to warm up and measures the next `steps` (at most as
    /// many as the trainer reads back at once).
    public static func measure(_ plan: RunPlan, on backend: Backend, steps: Int = 8) throws -> StepProfile {
        let tracer = TracingBackend(wrapping: backend)
        let trainer = try Trainer(plan: plan, backend: tracer)
        let batches = trainer.stepsPerEpoch
        try trainer.runSteps(1)
        try tracer.synchronize()
        tracer.reset()
        let measured = max(1, min(steps, trainer.readings.capacity))
        try trainer.runSteps(measured, firstBatch: batches > 1 ? 1 : 0)
        let calls = tracer.kernelCalls.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let bytes = MemoryLayout<Float>.size
        return StepProfile(steps: measured, kernelCalls: calls.map { (name: $0.key, count: $0.value / measured) },
                           uploads: tracer.uploads / measured, uploadedBytes: tracer.uploadedElements * bytes / measured,
                           downloads: tracer.downloads, downloadedBytes: tracer.downloadedElements * bytes,
                           buffersAllocated: tracer.buffersMade)
    }

    /// A few lines for people, as `canopy check --plan` prints them.
    public var lines: [String] {
        let top = kernelCalls.prefix(12).map { "\($0.name) \($0.count)" }.joined(separator: ", ")
        let more = kernelCalls.count > 12 ? ", …" : ""
        return [
            "step: \(kernelCallCount) kernel calls (\(top)\(more))",
            "step: \(uploads) uploads (\(MemoryPlan.format(uploadedBytes))), \(buffersAllocated) buffers allocated after "
                + "warm-up; \(downloads) download\(downloads == 1 ? "" : "s") (\(MemoryPlan.format(downloadedBytes))) in "
                + "\(steps) steps (losses and outputs are read back several steps at once)",
        ]
    }
}
