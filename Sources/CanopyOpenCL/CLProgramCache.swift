import CanopyCore
import COpenCL
import Foundation

/// How the programs of one ``OpenCLBackend`` were obtained: lets a test (or a log) prove that a second
/// backend with the same cache directory loaded binaries instead of compiling.
public struct OpenCLCompileStatistics: Equatable, Sendable, CustomStringConvertible {
    /// Programs compiled from OpenCL C source.
    public var builtFromSource = 0
    /// Programs created from a binary in the disk cache.
    public var loadedFromBinary = 0
    /// Cache files that existed but were damaged or rejected by the driver, and were rebuilt.
    public var rejectedCacheFiles = 0
    /// Binaries written to the disk cache.
    public var binariesSaved = 0
    /// The last failure to write the disk cache (the cache is an optimisation: a failure does not stop work).
    public var lastSaveError: String?

    public var description: String {
        "\(builtFromSource) built from source, \(loadedFromBinary) loaded from the disk cache, "
            + "\(rejectedCacheFiles) cache files rejected, \(binariesSaved) binaries saved"
    }
}

/// One built program and the kernel objects made from it.
final class CLProgram {
    let program: cl_program
    let file: String
    /// Where its binary is cached on disk (nil when the disk cache is off).
    let cacheURL: URL?
    var kernels: [String: CLKernel] = [:]
    /// Kernels launched so far, and those the saved binary already contains (PoCL compiles at first launch,
    /// so a binary saved before a kernel has run would make the next process compile it again).
    var launched: Set<String> = []
    var saved: Set<String> = []

    init(program: cl_program, file: String, cacheURL: URL?, saved: Set<String>) {
        self.program = program; self.file = file; self.cacheURL = cacheURL; self.saved = saved
    }

    deinit {
        kernels.removeAll()
        clReleaseProgram(program)
    }
}

/// Programs by (file, build options), built once per backend; binaries cached on disk across processes.
final class CLProgramCache {
    let device: CLDevice
    let sources: KernelSources
    let disk: CLDiskCache?
    private var programs: [String: CLProgram] = [:]
    private(set) var statistics = OpenCLCompileStatistics()

    init(device: CLDevice, sources: KernelSources, disk: CLDiskCache?) {
        self.device = device; self.sources = sources; self.disk = disk
    }

    /// The kernel object of `signature` built with `options`, building (or loading) its file's program on first
    /// use, and noting that it is about to run.
    func kernel(_ signature: CLKernelSignature, options: String) throws -> CLKernel {
        let program = try self.program(file: signature.file, options: options)
        program.launched.insert(signature.name)
        if let kernel = program.kernels[signature.name] { return kernel }
        let kernel = try CLKernel(program: program.program, name: signature.name, device: device, file: program.file)
        program.kernels[signature.name] = kernel
        return kernel
    }

    /// The names of the kernels in `file`'s program as the compiler built it (`CL_PROGRAM_KERNEL_NAMES`).
    func kernelNames(in file: CLKernelFile, options: String) throws -> [String] {
        try CLProgramCache.kernelNames(of: try program(file: file, options: options).program)
    }

    private func program(file kernelFile: CLKernelFile, options: String) throws -> CLProgram {
        let file = kernelFile.rawValue
        let memoryKey = file + "\u{0}" + options
        if let program = programs[memoryKey] { return program }
        let source = try sources.programSource(of: file)
        var cacheURL: URL?
        if let disk {
            var key = FNV1a64()
            let info = device.info
            for field in ["canopy-program-cache-1", info.platformName, info.platformVersion, info.name,
                          info.driverVersion, info.deviceVersion, options, source] {
                key.add(field: field)
            }
            let url = disk.url(file: file, key: key.value)
            cacheURL = url
            if FileManager.default.fileExists(atPath: url.path) {
                if let saved = disk.read(url), let built = CLCompiler.load(binary: saved.binary, options: options, device: device) {
                    statistics.loadedFromBinary += 1
                    let program = CLProgram(program: built, file: file, cacheURL: url, saved: saved.kernels)
                    try checkAgainstTable(program)
                    programs[memoryKey] = program
                    return program
                }
                statistics.rejectedCacheFiles += 1
            }
        }
        let built = try CLCompiler.build(source: source, file: file, options: options, device: device)
        statistics.builtFromSource += 1
        let program = CLProgram(program: built, file: file, cacheURL: cacheURL, saved: [])
        try checkAgainstTable(program)
        programs[memoryKey] = program
        return program
    }

    /// Throws unless every kernel of a freshly loaded program is in the table generated from `Kernels/` at build
    /// time, declared in this file, with as many arguments as the compiled kernel takes. Catches a kernel file
    /// edited out of step with the Swift that launches it (say from `CANOPY_KERNEL_DIR`) before anything runs.
    /// The kernel objects made for the check are kept for launching.
    private func checkAgainstTable(_ program: CLProgram) throws {
        for name in try CLProgramCache.kernelNames(of: program.program) {
            guard let signature = CLKernels.byName[name], signature.file.rawValue == program.file else {
                throw BackendError.deviceFailure(backend: "opencl", message: "kernel \(name) of \(program.file) is not "
                    + "in the kernel table generated from Kernels/\(program.file) at build time; a kernel file loaded "
                    + "from disk must declare the same kernels as the one Canopy was built with")
            }
            let kernel = try CLKernel(program: program.program, name: name, device: device, file: program.file)
            guard kernel.argumentCount == signature.parameters.count else {
                throw BackendError.deviceFailure(backend: "opencl", message: "kernel \(name) of \(program.file) takes "
                    + "\(kernel.argumentCount) arguments, but the kernel table generated from Kernels/\(program.file) at "
                    + "build time declares \(signature.parameters.count): \(signature.description)")
            }
            program.kernels[name] = kernel
        }
    }

    /// The kernel names of a built program.
    private static func kernelNames(of program: cl_program) throws -> [String] {
        let list = try CLDevice.readString("clGetProgramInfo", "listing a program's kernels") { size, buffer, sizeOut in
            clGetProgramInfo(program, cl_program_info(CL_PROGRAM_KERNEL_NAMES), size, buffer, sizeOut)
        }
        return list.split(separator: ";").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Saves the binary of every program that has run a kernel its saved binary lacks. Call only after the
    /// queue has finished, so that the driver has compiled everything that ran.
    func saveLaunchedBinaries() {
        guard let disk else { return }
        for program in programs.values where !program.launched.isSubset(of: program.saved) {
            guard let url = program.cacheURL else { continue }
            let kernels = program.launched.union(program.saved)
            do {
                let binary = try CLCompiler.binary(of: program.program, device: device)
                try disk.write(url, kernels: kernels, binary: binary)
                statistics.binariesSaved += 1
            } catch {
                statistics.lastSaveError = "saving \(url.path): \(error)"
            }
            // Marked as saved even on failure: a cache that cannot be written is not retried every step.
            program.saved = kernels
        }
    }
}
