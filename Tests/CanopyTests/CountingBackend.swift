import Canopy

/// A third backend written outside the package, through the public protocol only: it forwards to another
/// backend and counts buffers and kernel calls by name.
final class CountingBackend: Backend {
    let inner: Backend
    private(set) var kernelCalls: [String: Int] = [:]
    private(set) var buffersMade = 0

    init(wrapping inner: Backend) { self.inner = inner }

    var name: String { "counting" }
    var deviceDescription: String { "counting calls to \(inner.deviceDescription)" }

    func makeBuffer(count: Int) throws -> DeviceBuffer {
        buffersMade += 1
        return try inner.makeBuffer(count: count)
    }

    func upload(_ values: UnsafeBufferPointer<Float>, to buffer: DeviceBuffer, offset: Int) throws {
        try inner.upload(values, to: buffer, offset: offset)
    }

    func download(_ buffer: DeviceBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>) throws {
        try inner.download(buffer, offset: offset, into: destination)
    }

    func execute(_ kernel: Kernel) throws {
        kernelCalls[kernel.name, default: 0] += 1
        try inner.execute(kernel)
    }

    func synchronize() throws { try inner.synchronize() }
}

/// A backend that implements nothing, to check that a missing kernel is an error naming kernel and backend.
final class EmptyBackend: Backend {
    final class Buffer: DeviceBuffer { let count: Int; init(count: Int) { self.count = count } }
    var name: String { "empty" }
    var deviceDescription: String { "no device" }
    func makeBuffer(count: Int) throws -> DeviceBuffer { Buffer(count: count) }
    func upload(_ values: UnsafeBufferPointer<Float>, to buffer: DeviceBuffer, offset: Int) throws {}
    func download(_ buffer: DeviceBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>) throws {}
    func execute(_ kernel: Kernel) throws { throw BackendError.unsupportedKernel(kernel: kernel.name, backend: name) }
    func synchronize() throws {}
}
