import CanopyCore
import COpenCL
import Foundation

/// Turns OpenCL C source (or a binary saved earlier) into a built `cl_program` for one device.
enum CLCompiler {
    /// Builds `source` with `options`. A failed build throws with the file name, the options and the full log.
    static func build(source: String, file: String, options: String, device: CLDevice) throws -> cl_program {
        var status: cl_int = CL_SUCCESS
        let program: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            var length = strlen(text)
            return clCreateProgramWithSource(device.context, 1, &pointer, &length, &status)
        }
        guard let program, status == CL_SUCCESS else {
            throw CLError(call: "clCreateProgramWithSource", status: status, doing: "loading \(file)").asBackendError
        }
        var deviceId: cl_device_id? = device.device
        let built = clBuildProgram(program, 1, &deviceId, options, nil, nil)
        if built != CL_SUCCESS {
            let log = buildLog(program, device: device)
            clReleaseProgram(program)
            throw CLError(call: "clBuildProgram", status: built,
                          doing: "building \(file) for \(device.info.name) with options '\(options)'",
                          detail: "build log of \(file):\n\(log)").asBackendError
        }
        return program
    }

    /// Loads and builds a binary saved by ``binary(of:device:)``; nil when the driver rejects it (stale or
    /// corrupt), in which case the caller builds from source.
    static func load(binary: [UInt8], options: String, device: CLDevice) -> cl_program? {
        var status: cl_int = CL_SUCCESS
        var binaryStatus: cl_int = CL_SUCCESS
        var deviceId: cl_device_id? = device.device
        var length = binary.count
        let program: cl_program? = binary.withUnsafeBufferPointer { bytes in
            var pointer: UnsafePointer<UInt8>? = bytes.baseAddress
            return clCreateProgramWithBinary(device.context, 1, &deviceId, &length, &pointer, &binaryStatus, &status)
        }
        guard let program else { return nil }
        if status != CL_SUCCESS || binaryStatus != CL_SUCCESS
            || clBuildProgram(program, 1, &deviceId, options, nil, nil) != CL_SUCCESS {
            clReleaseProgram(program)
            return nil
        }
        return program
    }

    /// The device binary of a built program (for one device), as `clGetProgramInfo` gives it.
    static func binary(of program: cl_program, device: CLDevice) throws -> [UInt8] {
        var size = 0
        try CLError.check(clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil),
                          "clGetProgramInfo", "reading a program's binary size")
        var bytes = [UInt8](repeating: 0, count: size)
        let status: cl_int = bytes.withUnsafeMutableBufferPointer { buffer in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARIES),
                                    MemoryLayout<UnsafeMutablePointer<UInt8>?>.size, &pointer, nil)
        }
        try CLError.check(status, "clGetProgramInfo", "reading a program's binary")
        return bytes
    }

    /// The compiler's log for `program` on `device`, or a note saying why it could not be read.
    static func buildLog(_ program: cl_program, device: CLDevice) -> String {
        let log = try? CLDevice.readString("clGetProgramBuildInfo", "reading a build log") { size, buffer, sizeOut in
            clGetProgramBuildInfo(program, device.device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, buffer, sizeOut)
        }
        return log ?? "(the build log could not be read)"
    }
}
