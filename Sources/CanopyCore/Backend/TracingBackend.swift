/// A backend that runs everything on another backend and counts what it is asked to do: kernel calls by name,
/// uploads and downloads (calls and elements), buffers made, synchronizations. ``reset()`` starts a new count,
/// so that one training step can be measured after a warm-up (what `canopy check --plan` reports).
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
        try inner.execute(kernel)
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
