/// A backend that runs everything on another backend and counts what it is asked to do: kernel calls by name,
/// uploads and downloads (calls and elements), buffers made, synchronizations. ``reset()`` starts a new count,
/// so that one training step can be measured after a warm-up (what `canopy check --plan` reports). With
/// ``timesKernels`` it also waits for every kernel call and adds up its wall time by name: a profile of where a
/// step's time goes (the waits serialise the device, so use it for shares, not for the speed of a whole step).
///
/// Buffers are the wrapped backend's own, so executors and parameter stores built on the tracing backend work
/// exactly as on the wrapped one.
public final class TracingBackend: Backend {
    /// The backend that does the work.
    public let inner: Backend
    /// Kernel calls since the last reset, by ``Kernel/name``.
    public private(set) var kernelCalls: [String: Int] = [:]
    /// Host-to-device copies since the last reset, and the elements they moved.
    public private(set) var uploads = 0, uploadedElements = 0
    /// Device-to-host copies since the last reset, and the elements they moved.
    public private(set) var downloads = 0, downloadedElements = 0
    /// Buffers made since the last reset, and their elements.
    public private(set) var buffersMade = 0, madeElements = 0
    /// Waits for the device since the last reset.
    public private(set) var synchronizations = 0
    /// Whether each kernel call is waited for and timed into ``kernelSeconds``.
    public var timesKernels = false
    /// Wall time of the timed kernel calls since the last reset, by ``Kernel/name`` (each call from its start to
    /// the end of the wait for the device that follows it).
    public private(set) var kernelSeconds: [String: Double] = [:]

    /// Traces calls to `inner`.
    public init(wrapping inner: Backend) { self.inner = inner }

    /// The wrapped backend's name.
    public var name: String { inner.name }
    /// The wrapped backend's device, traced.
    public var deviceDescription: String { "\(inner.deviceDescription), traced" }

    /// Every kernel call counted, over all names.
    public var kernelCallCount: Int { kernelCalls.values.reduce(0, +) }

    /// Forgets every count.
    public func reset() {
        kernelCalls = [:]
        uploads = 0; uploadedElements = 0; downloads = 0; downloadedElements = 0
        buffersMade = 0; madeElements = 0; synchronizations = 0
        kernelSeconds = [:]
    }

    public func makeBuffer(count: Int) throws -> DeviceBuffer {
        buffersMade += 1
        madeElements += count
        return try inner.makeBuffer(count: count)
    }

    public func upload(_ values: UnsafeBufferPointer<Float>, to buffer: DeviceBuffer, offset: Int) throws {
        uploads += 1
        uploadedElements += values.count
        try inner.upload(values, to: buffer, offset: offset)
    }

    public func download(_ buffer: DeviceBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>) throws {
        downloads += 1
        downloadedElements += destination.count
        try inner.download(buffer, offset: offset, into: destination)
    }

    public func execute(_ kernel: Kernel) throws {
        kernelCalls[kernel.name, default: 0] += 1
        guard timesKernels else { return try inner.execute(kernel) }
        let clock = ContinuousClock(), start = clock.now
        try inner.execute(kernel)
        try inner.synchronize()
        kernelSeconds[kernel.name, default: 0] += (clock.now - start).seconds
    }

    public func synchronize() throws {
        synchronizations += 1
        try inner.synchronize()
    }

    /// The wrapped backend's view (not counted as a buffer made: it allocates nothing).
    public func makeView(of buffer: DeviceBuffer, offset: Int, count: Int) throws -> DeviceBuffer {
        try inner.makeView(of: buffer, offset: offset, count: count)
    }

    public var viewAlignment: Int { inner.viewAlignment }

    /// Forwards to the wrapped backend (not counted: nothing runs).
    public func prepare(kernels: [Kernel]) throws {
        try inner.prepare(kernels: kernels)
    }
}
