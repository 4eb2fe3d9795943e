import CanopyCore
import COpenCL
import Foundation

/// One OpenCL device opened for work: its platform and device ids, a context, one in-order command queue,
/// and the limits the host reads to choose kernel tunables. Its handles are immutable and OpenCL's API calls on them
/// are thread-safe (the program builders and the binary writer use them beside the launching thread).
final class CLDevice: @unchecked Sendable {
    let platform: cl_platform_id
    let device: cl_device_id
    let context: cl_context
    let queue: cl_command_queue
    let info: OpenCLDeviceInfo

    /// Opens the device `selector` picks among all devices of all platforms.
    init(selector: OpenCLDeviceSelector, environment: [String: String]) throws {
        let all = try CLDevice.enumerate()
        let chosen = try selector.choose(from: all.map(\.info), environment: environment)
        let ids = all[chosen.index]
        platform = ids.platform
        device = ids.device
        info = chosen

        var status: cl_int = CL_SUCCESS
        var properties: [cl_context_properties] = [
            cl_context_properties(CL_CONTEXT_PLATFORM), cl_context_properties(Int(bitPattern: UnsafeRawPointer(platform))), 0,
        ]
        var deviceId: cl_device_id? = device
        guard let context = clCreateContext(&properties, 1, &deviceId, nil, nil, &status), status == CL_SUCCESS else {
            throw CLError(call: "clCreateContext", status: status, doing: "opening \(chosen.summary)").asBackendError
        }
        guard let queue = clCreateCommandQueue(context, device, 0, &status), status == CL_SUCCESS else {
            clReleaseContext(context)
            throw CLError(call: "clCreateCommandQueue", status: status, doing: "opening \(chosen.summary)").asBackendError
        }
        self.context = context
        self.queue = queue
    }

    deinit {
        clFinish(queue)
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    var isGPU: Bool { info.type == "GPU" }

    /// Every device of every platform, in platform order, with its ids.
    static func enumerate() throws -> [(platform: cl_platform_id, device: cl_device_id, info: OpenCLDeviceInfo)] {
        var platformCount: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &platformCount)
        // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR (-1001) when no driver is installed.
        if status == -1001 || platformCount == 0 { throw OpenCLDeviceSelector.noDeviceError }
        try CLError.check(status, "clGetPlatformIDs", "listing OpenCL platforms")
        var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
        try CLError.check(clGetPlatformIDs(platformCount, &platforms, nil), "clGetPlatformIDs", "listing OpenCL platforms")

        var result: [(platform: cl_platform_id, device: cl_device_id, info: OpenCLDeviceInfo)] = []
        for (platformIndex, platform) in platforms.enumerated() {
            guard let platform else { continue }
            var deviceCount: cl_uint = 0
            let countStatus = clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &deviceCount)
            if countStatus == CL_DEVICE_NOT_FOUND || deviceCount == 0 { continue }
            try CLError.check(countStatus, "clGetDeviceIDs", "listing the devices of platform \(platformIndex)")
            var devices = [cl_device_id?](repeating: nil, count: Int(deviceCount))
            try CLError.check(clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), deviceCount, &devices, nil),
                              "clGetDeviceIDs", "listing the devices of platform \(platformIndex)")
            for (deviceIndex, device) in devices.enumerated() {
                guard let device else { continue }
                let info = try describe(platform: platform, platformIndex: platformIndex, device: device,
                                        deviceIndex: deviceIndex, index: result.count)
                result.append((platform, device, info))
            }
        }
        if result.isEmpty { throw OpenCLDeviceSelector.noDeviceError }
        return result
    }

    private static func describe(platform: cl_platform_id, platformIndex: Int, device: cl_device_id,
                                 deviceIndex: Int, index: Int) throws -> OpenCLDeviceInfo {
        let typeBits: cl_device_type = try deviceValue(device, CL_DEVICE_TYPE)
        let type: String
        if typeBits & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 { type = "GPU" }
        else if typeBits & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 { type = "CPU" }
        else if typeBits & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 { type = "accelerator" }
        else { type = "other" }
        let units: cl_uint = try deviceValue(device, CL_DEVICE_MAX_COMPUTE_UNITS)
        let workGroup: Int = try deviceValue(device, CL_DEVICE_MAX_WORK_GROUP_SIZE)
        let local: cl_ulong = try deviceValue(device, CL_DEVICE_LOCAL_MEM_SIZE)
        let global: cl_ulong = try deviceValue(device, CL_DEVICE_GLOBAL_MEM_SIZE)
        let alloc: cl_ulong = try deviceValue(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE)
        return OpenCLDeviceInfo(
            index: index, platformIndex: platformIndex,
            platformName: try platformString(platform, CL_PLATFORM_NAME),
            platformVersion: try platformString(platform, CL_PLATFORM_VERSION),
            deviceIndex: deviceIndex, name: try deviceString(device, CL_DEVICE_NAME), type: type,
            vendor: try deviceString(device, CL_DEVICE_VENDOR),
            driverVersion: try deviceString(device, CL_DRIVER_VERSION),
            deviceVersion: try deviceString(device, CL_DEVICE_VERSION),
            openCLCVersion: try deviceString(device, CL_DEVICE_OPENCL_C_VERSION),
            computeUnits: Int(units), maxWorkGroupSize: workGroup, localMemorySize: Int(local),
            globalMemorySize: Int(clamping: global), maxAllocationSize: Int(clamping: alloc))
    }

    static func deviceValue<T>(_ device: cl_device_id, _ parameter: Int32) throws -> T {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
        defer { pointer.deallocate() }
        try CLError.check(clGetDeviceInfo(device, cl_device_info(parameter), MemoryLayout<T>.size, pointer, nil),
                          "clGetDeviceInfo", "reading device property \(parameter)")
        return pointer.pointee
    }

    static func deviceString(_ device: cl_device_id, _ parameter: Int32) throws -> String {
        try readString("clGetDeviceInfo", "reading device property \(parameter)") { size, buffer, sizeOut in
            clGetDeviceInfo(device, cl_device_info(parameter), size, buffer, sizeOut)
        }
    }

    static func platformString(_ platform: cl_platform_id, _ parameter: Int32) throws -> String {
        try readString("clGetPlatformInfo", "reading platform property \(parameter)") { size, buffer, sizeOut in
            clGetPlatformInfo(platform, cl_platform_info(parameter), size, buffer, sizeOut)
        }
    }

    /// Calls an OpenCL `...Info` function twice, for the size and then the text, and trims the trailing NUL.
    static func readString(_ call: String, _ doing: String,
                           _ get: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) throws -> String {
        var size = 0
        try CLError.check(get(0, nil, &size), call, doing)
        var bytes = [UInt8](repeating: 0, count: max(size, 1))
        try CLError.check(bytes.withUnsafeMutableBytes { get(size, $0.baseAddress, nil) }, call, doing)
        if let end = bytes.firstIndex(of: 0) { bytes.removeSubrange(end...) }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }
}
