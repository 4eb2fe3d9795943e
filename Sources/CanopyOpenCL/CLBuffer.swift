import CanopyCore
import COpenCL

/// A ``DeviceBuffer`` holding `count` float32 values in one `cl_mem`, released when the last reference goes.
final class CLBuffer: DeviceBuffer {
    let memory: cl_mem
    let count: Int
    /// The device that made the buffer; a buffer is only accepted by the backend that owns this device.
    let owner: ObjectIdentifier
    /// For a sub-buffer, the buffer it is part of (kept alive as long as the view).
    let base: CLBuffer?

    /// Wraps a `cl_mem` this buffer now owns.
    init(memory: cl_mem, count: Int, owner: ObjectIdentifier, base: CLBuffer?) {
        self.memory = memory; self.count = count; self.owner = owner; self.base = base
    }

    /// Allocates `count` floats on `device`, zero-filled by an enqueued fill (ordered before any later use).
    init(device: CLDevice, count: Int) throws {
        var status: cl_int = CL_SUCCESS
        let bytes = count * MemoryLayout<Float>.size
        let doing = "allocating a buffer of \(count) floats (\(bytes) bytes)"
        guard let memory = clCreateBuffer(device.context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status),
              status == CL_SUCCESS else {
            throw CLError(call: "clCreateBuffer", status: status, doing: doing).asBackendError
        }
        self.memory = memory
        self.count = count
        self.owner = ObjectIdentifier(device)
        self.base = nil
        var zero: Float = 0
        let fill = clEnqueueFillBuffer(device.queue, memory, &zero, MemoryLayout<Float>.size, 0, bytes, 0, nil, nil)
        try CLError.check(fill, "clEnqueueFillBuffer", "zero-filling a new buffer of \(count) floats")
    }

    deinit { clReleaseMemObject(memory) }
}
