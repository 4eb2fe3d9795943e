/// A block of float32 memory that lives on a backend's device.
///
/// Buffers are created by ``Backend/makeBuffer(count:)`` and may only be passed back to the backend that made
/// them (or to a wrapper that forwards to it). Every value Canopy stores is a float32: class labels, pooling
/// indices and masks are stored as exact small integers in float32 (exact below 2²⁴).
public protocol DeviceBuffer: AnyObject {
    /// The number of float32 elements the buffer holds.
    var count: Int { get }
}

/// A device that can hold buffers and run Canopy's primitive kernels.
///
/// Canopy ships two: `CPUBackend` and `OpenCLBackend`. Anyone can write another: implement buffers and
/// ``execute(_:)``, and throw ``BackendError/unsupportedKernel(kernel:backend:)`` for kernels you do not provide.
/// A backend never falls back silently to another backend.
///
/// Work may run asynchronously: ``execute(_:)`` may only enqueue; ``download(_:into:)`` and ``synchronize()``
/// wait for everything enqueued before them. Calls are made from one thread at a time.
public protocol Backend: AnyObject {
    /// A short stable identifier such as `cpu` or `opencl`.
    var name: String { get }

    /// A human-readable description of the device, for logs (`PoCL pthread-skylake (OpenCL 3.0)`).
    var deviceDescription: String { get }

    /// Allocates a zero-filled buffer of `count` float32 elements. `count` must be at least 1.
    func makeBuffer(count: Int) throws -> DeviceBuffer

    /// Copies `values` into `buffer` starting at element `offset`.
    func upload(_ values: UnsafeBufferPointer<Float>, to buffer: DeviceBuffer, offset: Int) throws

    /// Copies `destination.count` elements of `buffer`, starting at element `offset`, into `destination`,
    /// after all previously enqueued work has finished.
    func download(_ buffer: DeviceBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>) throws

    /// Runs (or enqueues) one primitive kernel. See ``Kernel`` for the exact semantics every backend must give.
    func execute(_ kernel: Kernel) throws

    /// Waits until every enqueued kernel and copy has finished.
    func synchronize() throws

    /// A buffer that is elements `offset ..< offset + count` of `buffer`, sharing its memory: what a kernel writes
    /// into one, the other holds. Lets parameters, gradients and optimizer state be laid out end to end, so that
    /// one optimizer launch covers them all. `offset` must be a multiple of ``viewAlignment``. A backend that
    /// cannot make views throws ``BackendError/unsupportedKernel(kernel:backend:)`` (the default), and callers
    /// then keep separate buffers.
    func makeView(of buffer: DeviceBuffer, offset: Int, count: Int) throws -> DeviceBuffer

    /// The multiple, in elements, that a view's offset must be (an OpenCL device's base address alignment).
    var viewAlignment: Int { get }

    /// Gets ready to run `kernels` (a plan's calls, known before its first step; the executor calls it once per
    /// plan): an OpenCL backend starts building the programs they need, in the background. Runs nothing and
    /// changes no buffer. The default does nothing.
    func prepare(kernels: [Kernel]) throws
}

extension Backend {
    /// Throws ``BackendError/unsupportedKernel(kernel:backend:)``: this backend makes no views.
    public func makeView(of buffer: DeviceBuffer, offset: Int, count: Int) throws -> DeviceBuffer {
        throw BackendError.unsupportedKernel(kernel: "makeView", backend: name)
    }

    /// 1.
    public var viewAlignment: Int { 1 }
}

extension Backend {
    /// Nothing to get ready (the CPU backend runs every kernel as it is called).
    public func prepare(kernels: [Kernel]) throws {}

    /// Copies an array into `buffer` from its start.
    public func upload(_ values: [Float], to buffer: DeviceBuffer) throws {
        try values.withUnsafeBufferPointer { try upload($0, to: buffer, offset: 0) }
    }

    /// Makes a buffer holding `values`.
    public func makeBuffer(_ values: [Float]) throws -> DeviceBuffer {
        let buffer = try makeBuffer(count: max(values.count, 1))
        if !values.isEmpty { try upload(values, to: buffer) }
        return buffer
    }

    /// Reads a whole buffer back to the host.
    public func download(_ buffer: DeviceBuffer) throws -> [Float] {
        var result = [Float](repeating: 0, count: buffer.count)
        try result.withUnsafeMutableBufferPointer { try download(buffer, offset: 0, into: $0) }
        return result
    }
}

/// Errors a backend raises. Backend-specific failures (an OpenCL status, a build log) come as ``deviceFailure``.
public enum BackendError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The backend has no implementation of this kernel.
    case unsupportedKernel(kernel: String, backend: String)
    /// A kernel was called with buffers too small for its sizes, or with sizes that make no sense.
    case invalidArguments(kernel: String, reason: String)
    /// A buffer from another backend was passed in.
    case foreignBuffer(backend: String)
    /// The device failed; `message` says what Canopy was doing and what the device said.
    case deviceFailure(backend: String, message: String)
    /// No device of the requested kind exists or the requested one was not found.
    case deviceUnavailable(String)

    public var description: String {
        switch self {
        case let .unsupportedKernel(kernel, backend):
            return "the \(backend) backend has no kernel '\(kernel)'"
        case let .invalidArguments(kernel, reason):
            return "invalid arguments to kernel '\(kernel)': \(reason)"
        case let .foreignBuffer(backend):
            return "a buffer made by another backend was passed to the \(backend) backend"
        case let .deviceFailure(backend, message):
            return "\(backend): \(message)"
        case let .deviceUnavailable(message):
            return message
        }
    }
}
