import CanopyCore

/// A zero-filled block of host memory holding `count` float32 values, owned by a ``CPUBackend``.
///
/// The memory is allocated once, never resized, and freed when the buffer is released. A view
/// (``CPUBackend/makeView(of:offset:count:)``) shares a range of another buffer's memory and keeps it alive.
public final class CPUBuffer: DeviceBuffer {
    /// The number of float32 elements the buffer holds.
    public let count: Int
    /// The first element. Valid for `count` elements while the buffer is alive.
    public let pointer: UnsafeMutablePointer<Float>
    /// For a view, the buffer whose memory it shares.
    let base: CPUBuffer?

    init(count: Int) {
        self.count = count
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
        base = nil
    }

    /// Elements `offset ..< offset + count` of `buffer` (of its base, for a view of a view).
    init(viewOf buffer: CPUBuffer, offset: Int, count: Int) {
        self.count = count
        pointer = buffer.pointer + offset
        base = buffer.base ?? buffer
    }

    deinit {
        if base == nil { pointer.deallocate() }
    }
}
