import CanopyCore
import COpenCL

/// One argument of a kernel launch, in the order the kernel declares them.
enum CLArgument {
    case buffer(CLBuffer)
    case int(Int)
    case float(Float)
    case uint(UInt32)

    /// Whether this argument can be passed for a parameter of `kind`.
    func fits(_ kind: CLParameterKind) -> Bool {
        switch (self, kind) {
        case (.buffer, .read), (.buffer, .written), (.int, .int), (.float, .float), (.uint, .uint): return true
        case (.buffer, _), (.int, _), (.float, _), (.uint, _): return false
        }
    }

    /// `a buffer`, `an int`, ..., for messages.
    var kindName: String {
        switch self {
        case .buffer: return "a buffer"
        case .int: return "an int"
        case .float: return "a float"
        case .uint: return "a uint"
        }
    }
}

/// A kernel object ready to launch, with the largest work-group size the device allows for it; or a stand-in
/// (no kernel object) that a rehearsal hands to a kernel family sizing a launch it will not enqueue.
final class CLKernel {
    let kernel: cl_kernel?
    let name: String
    let maxWorkGroupSize: Int
    /// The number of arguments the compiled kernel takes (`CL_KERNEL_NUM_ARGS`).
    let argumentCount: Int

    init(program: cl_program, name: String, device: CLDevice, file: String) throws {
        var status: cl_int = CL_SUCCESS
        guard let kernel = clCreateKernel(program, name, &status), status == CL_SUCCESS else {
            throw CLError(call: "clCreateKernel", status: status, doing: "creating kernel \(name) of \(file)").asBackendError
        }
        self.kernel = kernel
        self.name = name
        var arguments: cl_uint = 0
        let counted = clGetKernelInfo(kernel, cl_kernel_info(CL_KERNEL_NUM_ARGS), MemoryLayout<cl_uint>.size, &arguments, nil)
        if counted != CL_SUCCESS {
            clReleaseKernel(kernel)
            throw CLError(call: "clGetKernelInfo", status: counted, doing: "counting the arguments of \(name) of \(file)")
                .asBackendError
        }
        argumentCount = Int(arguments)
        var size = 0
        let query = clGetKernelWorkGroupInfo(kernel, device.device, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE),
                                             MemoryLayout<Int>.size, &size, nil)
        maxWorkGroupSize = query == CL_SUCCESS && size > 0 ? size : device.info.maxWorkGroupSize
    }

    /// A stand-in for kernel `name` with work-group limit `maxWorkGroupSize`; launching it throws.
    init(standInFor name: String, maxWorkGroupSize: Int) {
        kernel = nil
        self.name = name
        self.maxWorkGroupSize = maxWorkGroupSize
        argumentCount = 0
    }

    deinit { if let kernel { clReleaseKernel(kernel) } }

    /// The largest power of two that is at most `limit` and allowed for this kernel.
    func powerOfTwoGroup(atMost limit: Int) -> Int {
        var size = 1
        while size * 2 <= min(limit, maxWorkGroupSize) { size *= 2 }
        return size
    }
}

enum CLLaunch {
    /// Sets `arguments` and enqueues `kernel` over `global` work-items (each dimension rounded up to a multiple
    /// of the work-group) in work-groups of `local`, shrunk by halving if the device allows fewer work-items
    /// for this kernel. Does not wait: the queue is in order, and `synchronize()` waits.
    ///
    /// Throws, before setting anything, unless `arguments` match `signature` in number and kind.
    static func enqueue(_ kernel: CLKernel, _ signature: CLKernelSignature, on device: CLDevice,
                        arguments: [CLArgument], global: [Int], local: [Int]) throws {
        precondition(global.count == local.count && (1...3).contains(global.count), "launch dimensions")
        try signature.check(arguments)
        guard let handle = kernel.kernel else {
            throw BackendError.deviceFailure(backend: "opencl", message: "\(kernel.name) was launched through a "
                + "stand-in kernel object made for a rehearsal")
        }
        for (index, argument) in arguments.enumerated() {
            let status: cl_int
            switch argument {
            case let .buffer(buffer):
                var memory: cl_mem? = buffer.memory
                status = clSetKernelArg(handle, cl_uint(index), MemoryLayout<cl_mem>.size, &memory)
            case let .int(value):
                guard let narrow = Int32(exactly: value) else {
                    throw BackendError.invalidArguments(kernel: kernel.name,
                                                        reason: "size \(value) does not fit the kernel's 32-bit int")
                }
                var v = narrow
                status = clSetKernelArg(handle, cl_uint(index), 4, &v)
            case let .float(value):
                var v = value
                status = clSetKernelArg(handle, cl_uint(index), 4, &v)
            case let .uint(value):
                var v = value
                status = clSetKernelArg(handle, cl_uint(index), 4, &v)
            }
            try CLError.check(status, "clSetKernelArg", "setting argument \(index) of \(kernel.name)")
        }
        // Kernels read their work-group shape with get_local_size, so a smaller group is always correct:
        // halve the largest dimension until the group fits the kernel's limit on this device.
        var localSizes = local.map { max(1, $0) }
        while localSizes.reduce(1, *) > kernel.maxWorkGroupSize, let widest = localSizes.indices.max(by: { localSizes[$0] < localSizes[$1] }),
              localSizes[widest] > 1 {
            localSizes[widest] /= 2
        }
        var globalSizes = zip(global, localSizes).map { g, l in max(1, (max(g, 1) + l - 1) / l * l) }
        let status = clEnqueueNDRangeKernel(device.queue, handle, cl_uint(global.count), nil,
                                            &globalSizes, &localSizes, 0, nil, nil)
        try CLError.check(status, "clEnqueueNDRangeKernel",
                          "launching \(kernel.name) with global size \(globalSizes) and local size \(localSizes)")
    }
}
