import CanopyCore
import COpenCL
import Foundation

/// What one OpenCL device is, as `canopy devices` lists it and as device selection matches it.
public struct OpenCLDeviceInfo: Equatable, Sendable, CustomStringConvertible {
    /// The position of the device in the list of all devices of all platforms (the `N` of `CANOPY_DEVICE=N`).
    public var index: Int
    /// The platform's position and name (`Portable Computing Language`) and version string.
    public var platformIndex: Int, platformName: String, platformVersion: String
    /// The device's position within its platform (the `D` of `CANOPY_DEVICE=P:D`) and its name.
    public var deviceIndex: Int, name: String
    /// `GPU`, `CPU`, `accelerator` or `other`.
    public var type: String
    /// The vendor (`AuthenticAMD`), the driver's version (`3.1+debian`) and the device's OpenCL version string.
    public var vendor: String, driverVersion: String, deviceVersion: String
    /// The OpenCL C version the compiler accepts, e.g. `OpenCL C 1.2 PoCL`.
    public var openCLCVersion: String
    /// Parallel compute units, and the most work-items one work-group may have.
    public var computeUnits: Int, maxWorkGroupSize: Int
    /// Sizes in bytes.
    public var localMemorySize: Int, globalMemorySize: Int, maxAllocationSize: Int

    /// Whether the device is a simulator (Oclgrind), which reports itself as every device type at once. A
    /// simulator is chosen only when named (by index, `P:D` or name): never by the default choice or by type.
    public var isSimulator: Bool {
        [name, vendor, platformName].contains { $0.lowercased().contains("oclgrind") }
    }

    /// Whether the driver keeps the kernels it compiles in a persistent cache of its own, so that a later process
    /// compiles nothing again: PoCL does (its kernel cache, `POCL_CACHE_DIR`, on unless `POCL_KERNEL_CACHE=0`).
    /// Other drivers may cache too, but only where they say so here is Canopy's own binary cache left out (see
    /// ``OpenCLBinaryCaching/automatic``).
    public func keepsCompiledKernels(environment: [String: String]) -> Bool {
        platformName == "Portable Computing Language" && environment["POCL_KERNEL_CACHE"] != "0"
    }

    /// Whether the driver compiles one kernel at a time in a process, however many threads ask (PoCL 3 holds one
    /// process-wide lock around its LLVM work and another around each kernel's code generation and linking): then
    /// a second process compiling into the driver's persistent cache (see ``keepsCompiledKernels(environment:)``)
    /// is the only way to use a second core for compiling.
    public var compilesOneKernelAtATime: Bool { platformName == "Portable Computing Language" }

    /// The `P:D` selector that picks exactly this device.
    public var selector: String { "\(platformIndex):\(deviceIndex)" }

    /// One line for logs: name (type, platform, OpenCL C version, driver), e.g.
    /// `pthread-skylake-avx512-AMD EPYC (CPU, Portable Computing Language, OpenCL C 1.2 PoCL, driver 3.1+debian)`.
    public var summary: String { "\(name) (\(type), \(platformName), \(openCLCVersion), driver \(driverVersion))" }

    public var description: String {
        func mib(_ bytes: Int) -> String { "\(bytes / (1 << 20)) MiB" }
        return """
        [\(index)] \(selector) \(name)
            type \(type)\(isSimulator ? " (a simulator, chosen only when named)" : ""), vendor \(vendor), \
        platform \(platformName) (\(platformVersion))
            \(deviceVersion), \(openCLCVersion), driver \(driverVersion)
            \(computeUnits) compute units, max work-group \(maxWorkGroupSize), local memory \(localMemorySize / 1024) KiB, \
        global memory \(mib(globalMemorySize)), max allocation \(mib(maxAllocationSize))
        """
    }
}

/// Which OpenCL device an ``OpenCLBackend`` runs on.
///
/// The text forms (`CANOPY_DEVICE`, `canopy --device`) are parsed by ``init(parsing:)``:
/// `"2"` is the third device of the list ``OpenCLBackend/availableDevices()`` returns, `"0:1"` is platform 0's
/// device 1, `"gpu"`/`"cpu"` the first device of that type, and anything else a case-insensitive substring of
/// the device, vendor or platform name (`"pthread"`, `"nvidia"`, `"oclgrind"`). A simulator
/// (``OpenCLDeviceInfo/isSimulator``) is picked only by index, `P:D` or name, never by ``best`` or by type.
public enum OpenCLDeviceSelector: Equatable, Sendable {
    /// `CANOPY_DEVICE` when it is set and not empty, otherwise ``best``.
    case environment
    /// The first GPU, otherwise the first device of any type; never a simulator.
    case best
    /// A position in the list of all devices of all platforms.
    case index(Int)
    /// A platform index and a device index within that platform.
    case platformDevice(platform: Int, device: Int)
    /// The first device of a type: `gpu`, `cpu` or `accelerator`; never a simulator.
    case type(String)
    /// The first device whose device, vendor or platform name contains the text, ignoring case.
    case nameContains(String)

    /// Parses `"N"`, `"P:D"`, `"gpu"`, `"cpu"`, `"accelerator"` or a name substring; empty text means ``best``.
    public init(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
        if trimmed.isEmpty {
            self = .best
        } else if let n = Int(trimmed), n >= 0 {
            self = .index(n)
        } else if parts.count == 2, let p = Int(parts[0]), let d = Int(parts[1]), p >= 0, d >= 0 {
            self = .platformDevice(platform: p, device: d)
        } else if ["gpu", "cpu", "accelerator"].contains(trimmed.lowercased()) {
            self = .type(trimmed.lowercased())
        } else {
            self = .nameContains(trimmed)
        }
    }

    /// Picks one device out of `devices`, or throws ``BackendError/deviceUnavailable(_:)`` listing them.
    func choose(from devices: [OpenCLDeviceInfo], environment: [String: String]) throws -> OpenCLDeviceInfo {
        if devices.isEmpty { throw OpenCLDeviceSelector.noDeviceError }
        let found: OpenCLDeviceInfo?
        switch self {
        case .environment:
            let text = environment["CANOPY_DEVICE"] ?? ""
            return try OpenCLDeviceSelector(parsing: text).choose(from: devices, environment: [:])
        case .best:
            let real = devices.filter { !$0.isSimulator }
            found = real.first { $0.type == "GPU" } ?? real.first
        case let .index(n):
            found = devices.first { $0.index == n }
        case let .platformDevice(p, d):
            found = devices.first { $0.platformIndex == p && $0.deviceIndex == d }
        case let .type(kind):
            found = devices.first { !$0.isSimulator && $0.type.lowercased() == kind.lowercased() }
        case let .nameContains(text):
            let needle = text.lowercased()
            found = devices.first {
                [$0.name, $0.vendor, $0.platformName].contains { $0.lowercased().contains(needle) }
            }
        }
        guard let device = found else {
            let list = devices.map { "  " + $0.description.replacingOccurrences(of: "\n", with: "\n  ") }
            let simulators = devices.contains(where: \.isSimulator)
                ? " (a simulator such as Oclgrind is chosen only when named: CANOPY_DEVICE=oclgrind)" : ""
            throw BackendError.deviceUnavailable(
                "no OpenCL device matches \(self.readable)\(simulators); the devices are:\n" + list.joined(separator: "\n"))
        }
        return device
    }

    private var readable: String {
        switch self {
        case .environment: return "CANOPY_DEVICE"
        case .best: return "the default choice"
        case let .index(n): return "device index \(n)"
        case let .platformDevice(p, d): return "platform \(p), device \(d) ('\(p):\(d)')"
        case let .type(kind): return "device type '\(kind)'"
        case let .nameContains(text): return "the name '\(text)'"
        }
    }

    static let noDeviceError = BackendError.deviceUnavailable("""
        no OpenCL platform or device was found. Install an OpenCL driver (ICD) for your hardware; on Debian or \
        Ubuntu the CPU driver is `apt-get install pocl-opencl-icd` and the loader and headers are \
        `apt-get install ocl-icd-opencl-dev opencl-headers`. `clinfo` lists what the system can see.
        """)
}
