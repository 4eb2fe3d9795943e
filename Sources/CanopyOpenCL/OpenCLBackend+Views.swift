import CanopyCore
import COpenCL

extension OpenCLBackend {
    /// A sub-buffer (`clCreateSubBuffer`) of elements `offset ..< offset + count` of `buffer`.
    public func makeView(of buffer: DeviceBuffer, offset: Int, count: Int) throws -> DeviceBuffer {
        let base = try own(buffer)
        guard offset >= 0, count >= 1, offset + count <= base.count, offset % viewAlignment == 0 else {
            throw BackendError.invalidArguments(kernel: "makeView", reason:
                "\(count) elements at offset \(offset) are not an aligned range of a buffer of \(base.count) "
                + "(views start at multiples of \(viewAlignment) elements on this device)")
        }
        return try CLBuffer(viewOf: base, offset: offset, count: count)
    }

    /// `CL_DEVICE_MEM_BASE_ADDR_ALIGN` (bits) in floats: where a sub-buffer may start.
    public var viewAlignment: Int {
        var bits: cl_uint = 0
        guard clGetDeviceInfo(device.device, cl_device_info(CL_DEVICE_MEM_BASE_ADDR_ALIGN), MemoryLayout<cl_uint>.size,
                              &bits, nil) == CL_SUCCESS else { return 1024 }   // 4096 bytes, safe everywhere
        return max(1, Int(bits) / (8 * MemoryLayout<Float>.size))
    }
}

extension CLBuffer {
    /// A sub-buffer sharing `offset ..< offset + count` of `base` (which it keeps alive).
    convenience init(viewOf base: CLBuffer, offset: Int, count: Int) throws {
        var region = cl_buffer_region(origin: offset * MemoryLayout<Float>.size, size: count * MemoryLayout<Float>.size)
        var status: cl_int = CL_SUCCESS
        guard let memory = clCreateSubBuffer(base.memory, cl_mem_flags(CL_MEM_READ_WRITE),
                                             cl_buffer_create_type(CL_BUFFER_CREATE_TYPE_REGION), &region, &status),
              status == CL_SUCCESS else {
            throw CLError(call: "clCreateSubBuffer", status: status,
                          doing: "making a view of \(count) floats at \(offset) of a buffer of \(base.count)").asBackendError
        }
        self.init(memory: memory, count: count, owner: base.owner, base: base)
    }
}
