import CanopyCore
import CanopyCPU
import CanopyOpenCL

/// Which backend to run on: a command-line flag, a setting in code, or `auto`.
public enum BackendChoice: String, CaseIterable, Sendable {
    /// An OpenCL GPU if there is one, else any OpenCL device, else the CPU backend.
    case auto
    /// The OpenCL backend; fails when no OpenCL device exists.
    case opencl
    /// The CPU backend (Swift kernels and OpenBLAS).
    case cpu
}

/// A backend that was opened, and why that one.
public struct SelectedBackend {
    /// The opened backend, ready for use.
    public let backend: Backend
    /// One line for people: what was picked and, for `auto`, why.
    public let reason: String
}

extension BackendChoice {
    /// Opens the backend this choice names.
    ///
    /// - Parameter device: an OpenCL device selector (`"0"`, `"0:1"`, `"gpu"`, a name substring); nil reads
    ///   `CANOPY_DEVICE`. A given device makes `auto` insist on OpenCL.
    /// - Throws: ``BackendError/deviceUnavailable(_:)`` when `opencl` (or a given device) cannot be opened.
    public func open(device: String? = nil) throws -> SelectedBackend {
        let selector = device.map(OpenCLDeviceSelector.init(parsing:)) ?? .environment
        switch self {
        case .cpu:
            let cpu = CPUBackend()
            return SelectedBackend(backend: cpu, reason: "cpu backend (\(cpu.deviceDescription))")
        case .opencl:
            let backend = try OpenCLBackend(device: selector)
            return SelectedBackend(backend: backend, reason: "opencl backend on \(backend.deviceDescription)")
        case .auto:
            do {
                let backend = try OpenCLBackend(device: selector)
                let kind = backend.deviceInfo.type.lowercased().contains("gpu") ? "an OpenCL GPU" : "no OpenCL GPU, using the OpenCL device"
                return SelectedBackend(backend: backend, reason: "auto: \(kind) \(backend.deviceDescription)")
            } catch {
                if device != nil { throw error }
                let cpu = CPUBackend()
                return SelectedBackend(backend: cpu, reason: "auto: no usable OpenCL device (\(error)); using the cpu backend")
            }
        }
    }
}
