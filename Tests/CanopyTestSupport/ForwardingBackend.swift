import CanopyCore

/// A backend that runs everything on another one, for tests that need a backend which differs in one respect
/// (records what it is asked, or makes no views): subclass it and override that one method.
open class ForwardingBackend: Backend {
    /// The backend that does the work.
    public let inner: Backend

    public init(_ inner: Backend) { self.inner = inner }

    open var name: String { inner.name }
    open var deviceDescription: String { inner.deviceDescription }
    open func makeBuffer(count: Int) throws -> DeviceBuffer { try inner.makeBuffer(count: count) }
    open func upload(_ values: UnsafeBufferPointer<Float>, to buffer: DeviceBuffer, offset: Int) throws {
        try inner.upload(values, to: buffer, offset: offset)
    }
    open func download(_ buffer: DeviceBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>) throws {
        try inner.download(buffer, offset: offset, into: destination)
    }
    open func execute(_ kernel: Kernel) throws { try inner.execute(kernel) }
    open func synchronize() throws { try inner.synchronize() }
    open func makeView(of buffer: DeviceBuffer, offset: Int, count: Int) throws -> DeviceBuffer {
        try inner.makeView(of: buffer, offset: offset, count: count)
    }
    open var viewAlignment: Int { inner.viewAlignment }
    open func prepare(kernels: [Kernel]) throws { try inner.prepare(kernels: kernels) }
}
