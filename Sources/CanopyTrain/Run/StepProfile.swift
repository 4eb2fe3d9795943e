import CanopyCore

/// What one training step asks of a backend, measured rather than estimated: the run is set up on a backend
/// (Canopy's CPU backend for `canopy check --plan`) behind a ``TracingBackend``, one step warms it up (buffers a step makes once), and the next step is
/// counted — kernel calls by kernel, host-to-device and device-to-host copies with their bytes, and buffers
/// allocated (none should be, once warm). The same plan makes the same kernel calls on every backend (an OpenCL
/// call may be several device launches, such as a grouped convolution's).
public struct StepProfile: Sendable {
    /// Kernel calls in one step, by kernel name, most frequent first (ties by name).
    public var kernelCalls: [(name: String, count: Int)]
    /// Host-to-device copies in one step, and their bytes.
    public var uploads: Int, uploadedBytes: Int
    /// Device-to-host copies in one step (each a wait for the device), and their bytes.
    public var downloads: Int, downloadedBytes: Int
    /// Device buffers allocated during the measured step.
    public var buffersAllocated: Int

    /// Every kernel call of the step.
    public var kernelCallCount: Int { kernelCalls.reduce(0) { $0 + $1.count } }

    /// Sets up `plan`'s run on `backend`, takes one step to warm up and measures the second.
    public static func measure(_ plan: RunPlan, on backend: Backend) throws -> StepProfile {
        let tracer = TracingBackend(wrapping: backend)
        let trainer = try Trainer(plan: plan, backend: tracer)
        let batches = trainer.stepsPerEpoch
        try trainer.runSteps(1)
        try tracer.synchronize()
        tracer.reset()
        try trainer.runSteps(1, firstBatch: batches > 1 ? 1 : 0)
        let calls = tracer.kernelCalls.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let bytes = MemoryLayout<Float>.size
        return StepProfile(kernelCalls: calls.map { (name: $0.key, count: $0.value) }, uploads: tracer.uploads,
                           uploadedBytes: tracer.uploadedElements * bytes, downloads: tracer.downloads,
                           downloadedBytes: tracer.downloadedElements * bytes, buffersAllocated: tracer.buffersMade)
    }

    /// A few lines for people, as `canopy check --plan` prints them.
    public var lines: [String] {
        let top = kernelCalls.prefix(12).map { "\($0.name) \($0.count)" }.joined(separator: ", ")
        let more = kernelCalls.count > 12 ? ", …" : ""
        return [
            "step: \(kernelCallCount) kernel calls (\(top)\(more))",
            "step: \(uploads) uploads (\(MemoryPlan.format(uploadedBytes))), \(downloads) downloads "
                + "(\(MemoryPlan.format(downloadedBytes))), \(buffersAllocated) buffers allocated after warm-up",
        ]
    }
}
