import CanopyCore
import CanopyCPU
import CanopyOpenCL
import Foundation

/// Which backend to run on: a command-line flag, a setting in code, or `auto`.
public enum BackendChoice: String, CaseIterable, Sendable {
    /// An OpenCL GPU if there is one, else any OpenCL device, else the CPU backend; for training, the backend
    /// that is faster for the model, measured (see ``open(forTraining:device:environment:)``).
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
    /// One rule for devices: a device that was asked for, by `device` or by the `CANOPY_DEVICE` environment
    /// variable, and is not there is an error; `auto` falls back to the CPU backend only when no device was asked
    /// for. Asking the `cpu` backend for a device is an error too (it has none to choose).
    ///
    /// - Parameters:
    ///   - device: an OpenCL device selector (`"0"`, `"0:1"`, `"gpu"`, a name substring); nil reads
    ///     `CANOPY_DEVICE`. A given device makes `auto` insist on OpenCL.
    ///   - environment: the environment to read `CANOPY_DEVICE` from (the process's by default).
    /// - Throws: ``BackendError/deviceUnavailable(_:)`` when `opencl` (or an asked-for device) cannot be opened,
    ///   or when `cpu` is given a device.
    public func open(device: String? = nil,
                     environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SelectedBackend {
        let asked = Self.askedDevice(device, environment: environment)
        let selector = asked.map(OpenCLDeviceSelector.init(parsing:)) ?? .best
        func opened(_ backend: OpenCLBackend) -> String {
            backend.deviceDescription + (asked.map { " (asked for '\($0)'\(device == nil ? " by CANOPY_DEVICE" : ""))" } ?? "")
        }
        switch self {
        case .cpu:
            if let device {
                throw BackendError.deviceUnavailable("--device '\(device)' selects an OpenCL device, but the cpu backend "
                    + "has none to choose; use --backend opencl (or auto) with --device, or leave --device out")
            }
            let cpu = CPUBackend()
            return SelectedBackend(backend: cpu, reason: "cpu backend (\(cpu.deviceDescription))")
        case .opencl:
            let backend = try OpenCLBackend(device: selector)
            return SelectedBackend(backend: backend, reason: "opencl backend on \(opened(backend))")
        case .auto:
            do {
                let backend = try OpenCLBackend(device: selector)
                let kind = backend.deviceInfo.type.lowercased().contains("gpu") ? "an OpenCL GPU" : "no OpenCL GPU, using the OpenCL device"
                return SelectedBackend(backend: backend, reason: "auto: \(kind) \(opened(backend))")
            } catch {
                if let asked {
                    throw BackendError.deviceUnavailable("the OpenCL device '\(asked)' asked for by "
                        + (device != nil ? "--device" : "CANOPY_DEVICE") + " is not available: \(error)")
                }
                let cpu = CPUBackend()
                return SelectedBackend(backend: cpu, reason: "auto: no usable OpenCL device (\(error)); using the cpu backend")
            }
        }
    }

    /// The device asked for: `device`, else `CANOPY_DEVICE` when it is set and not blank; nil when none was.
    static func askedDevice(_ device: String?, environment: [String: String]) -> String? {
        device ?? environment["CANOPY_DEVICE"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
    }
}
