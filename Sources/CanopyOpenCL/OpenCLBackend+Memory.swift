import CanopyCore

extension OpenCLBackend: MemoryLimitedBackend {
    /// `CL_DEVICE_GLOBAL_MEM_SIZE` for all buffers together and `CL_DEVICE_MAX_MEM_ALLOC_SIZE` for one.
    public var memoryLimits: DeviceMemoryLimits {
        DeviceMemoryLimits(totalBytes: deviceInfo.globalMemorySize, largestBufferBytes: deviceInfo.maxAllocationSize,
                           source: "the OpenCL device's CL_DEVICE_GLOBAL_MEM_SIZE and CL_DEVICE_MAX_MEM_ALLOC_SIZE")
    }
}
