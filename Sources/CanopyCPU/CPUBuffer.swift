import CanopyCore

/// A zero-filled block of host memory holding `count` float32 values, owned by a ``CPUBackend``.
///
/// The memory is allocated once, never resized, and freed when the buffer is released.
public final class CPUBuffer: DeviceBuffer {
    /// The number of float32 elements the buffer holds.
    public let count: Int
    /// The first element. Valid for `count` elements while the buffer is alive.
    public let pointer: UnsafeMutablePointer<Float>

    init(count: Int) {
        self.count = count
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }

    deinit {
        pointer.deallocate()
    }
}
