import CanopyCore
import Foundation

/// Where kernel source files come from: the copies embedded at build time from `Kernels/*.cl`, or a
/// directory on disk (`CANOPY_KERNEL_DIR`) for kernel development, read fresh by every new backend.
struct KernelSources {
    /// nil: the embedded sources.
    var directory: URL?

    /// The program source for `file` (e.g. `matmul.cl`): `common.cl`, then the file itself, each after a
    /// `#line` directive so that build logs point to the right file and line.
    func programSource(of file: String) throws -> String {
        "#line 1 \"common.cl\"\n" + (try source(of: "common.cl")) + "\n#line 1 \"\(file)\"\n" + (try source(of: file))
    }

    /// The text of `file`. A missing file is an error, never a silent switch to the other source.
    func source(of file: String) throws -> String {
        if let directory {
            let url = directory.appendingPathComponent(file)
            do {
                return try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw BackendError.deviceFailure(backend: "opencl",
                    message: "cannot read kernel source \(url.path) (kernel directory from CANOPY_KERNEL_DIR or "
                        + "OpenCLBackendOptions.kernelDirectory): \(error.localizedDescription)")
            }
        }
        guard let text = EmbeddedKernels.sources[file] else {
            let known = EmbeddedKernels.sources.keys.sorted().joined(separator: ", ")
            throw BackendError.deviceFailure(backend: "opencl",
                message: "no embedded kernel file \(file); the embedded files are: \(known)")
        }
        return text
    }
}
