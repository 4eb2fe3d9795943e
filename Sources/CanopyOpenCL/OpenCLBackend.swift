import CanopyCore
import COpenCL
import Foundation

/// Which family of kernel tunables (register blocks, work-group shapes, vector widths) a backend uses.
public enum OpenCLTuningProfile: String, Equatable, Sendable {
    /// GPU choices on GPUs, CPU choices on every other device.
    case automatic
    /// Large register blocks and wide vectors, one work-item per row in row kernels (PoCL and other CPU drivers).
    case cpu
    /// Small register blocks, many work-items, tiled transposes, teams of work-items per row.
    case gpu
}

/// Whether an ``OpenCLBackend`` keeps the binaries of the programs it compiled in its disk cache.
public enum OpenCLBinaryCaching: String, Equatable, Sendable {
    /// Binaries in the disk cache, except on a driver that keeps the kernels it compiled in a cache of its own,
    /// keyed by device, driver, source and options: PoCL (unless `POCL_KERNEL_CACHE=0`). There a program's binary
    /// saves nothing the driver's cache does not, and costs compiling every kernel of the program once more (PoCL
    /// compiles all of them, not only those that ran, to make the binary: 8 to 17 s of CPU for a small model's
    /// programs, competing with training on a machine with few cores and delaying the end of a short run). The
    /// disk cache then records only which programs, and which of their kernels, the driver has compiled, so that
    /// ``OpenCLCompileStatistics`` can still tell a first run from a later one.
    case automatic
    /// Binaries in the disk cache on every driver (tests of the disk cache itself).
    case always
}

/// Where an ``OpenCLBackend`` reads kernel sources and caches compiled programs, and how it tunes kernels.
public struct OpenCLBackendOptions: Equatable, Sendable {
    /// A directory of `.cl` files to compile instead of the copies embedded at build time (kernel development).
    public var kernelDirectory: URL?
    /// Where compiled program binaries are kept between runs; nil turns the disk cache off.
    public var cacheDirectory: URL?
    /// The tunables' family; `.automatic` unless you are testing or benchmarking the other family's kernels.
    /// Only `.automatic` reads a tuning file (``OpenCLBackend/tune(device:options:seconds:progress:)``) from
    /// `cacheDirectory`; `.cpu` and `.gpu` always use that family's defaults.
    public var tuning: OpenCLTuningProfile
    /// Whether compiled programs' binaries go to the disk cache (see ``OpenCLBinaryCaching``).
    public var binaryCaching: OpenCLBinaryCaching

    /// Creates options; by default the embedded kernel sources, automatic tuning and automatic binary caching. A
    /// nil `cacheDirectory` turns the disk cache off.
    public init(kernelDirectory: URL? = nil, cacheDirectory: URL?, tuning: OpenCLTuningProfile = .automatic,
                binaryCaching: OpenCLBinaryCaching = .automatic) {
        self.kernelDirectory = kernelDirectory
        self.cacheDirectory = cacheDirectory
        self.tuning = tuning
        self.binaryCaching = binaryCaching
    }

    /// `CANOPY_KERNEL_DIR` (unset: embedded sources) and `CANOPY_CACHE_DIR`, else `$XDG_CACHE_HOME/canopy/kernels`,
    /// else `~/.cache/canopy/kernels`. `CANOPY_CACHE_DIR=off` turns the disk cache off.
    public static func environment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Self {
        let kernels = environment["CANOPY_KERNEL_DIR"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
        let cache = environment["CANOPY_CACHE_DIR"] == "off" ? nil : CLDiskCache.defaultDirectory(environment: environment)
        return OpenCLBackendOptions(kernelDirectory: kernels, cacheDirectory: cache)
    }
}

/// Canopy's primitive kernels on an OpenCL 1.2 device (GPU or CPU driver such as PoCL).
///
/// Kernels are enqueued on one in-order queue and run asynchronously; ``download(_:offset:into:)`` and
/// ``synchronize()`` wait. Programs are compiled when a plan is prepared (``prepare(kernels:)``, in the
/// background) or else on first use of a kernel file, with tunables (`-D` options) chosen from the device's
/// limits or measured by ``tune(device:options:seconds:progress:)`` (see ``tuningFile``), and their binaries are
/// cached on disk after they have run (see ``waitForDiskCache()``).
///
/// ```swift
/// let backend = try OpenCLBackend(device: OpenCLDeviceSelector(parsing: "0:0"))
/// print(backend.deviceDescription)
/// ```
public final class OpenCLBackend: Backend {
    /// Always `opencl`.
    public let name = "opencl"
    /// The device's ``OpenCLDeviceInfo/summary``: name, type, platform, OpenCL C version and driver.
    public var deviceDescription: String { device.info.summary }
    /// The device this backend runs on.
    public var deviceInfo: OpenCLDeviceInfo { device.info }
    /// The tuning file whose measured tunables this backend uses, or nil when it uses the defaults for its
    /// device type (no file for this device and driver, a file from other kernel sources or damaged, the disk
    /// cache off, or a forced `.cpu`/`.gpu` profile).
    public private(set) var tuningFile: URL?
    /// How many programs were built from source and how many loaded from the disk cache, once everything that
    /// has run is saved to the disk cache (waits for enqueued work and for binaries being written).
    public var compileStatistics: OpenCLCompileStatistics {
        waitForDiskCache()
        return programs.statistics
    }
    /// Kernels enqueued so far (launch overhead is what decides small models' speed).
    public private(set) var launchCount = 0

    let device: CLDevice
    let programs: CLProgramCache
    /// The tunables in use (the tuner swaps them while it measures candidates).
    var tunables: CLTunables
    /// Scratch memory for transposes and im2col, grown on demand and reused (the queue is in order).
    var scratch: [CLBuffer] = []
    /// Host copies that uploads are written from, so that an upload does not wait for the device.
    let staging: CLUploadStaging
    /// While ``prepare(kernels:)`` rehearses a plan: the programs and launches it needs (nothing is enqueued).
    var rehearsal: CLRehearsal?
    /// Every launch shape the plans prepared so far make (kernel, global and local sizes asked for).
    var preparedLaunches: Set<CLLaunchShape> = []
    /// The launches of the last plan prepared, as a compile helper replays them (see ``OpenCLCompileHelper``).
    var preparedWarmups: [CLWarmupLaunch] = []
    /// The compile helper process started for the last plan prepared, if any (see ``OpenCLCompileHelper``).
    var compileHelper: Process?

    /// Opens an OpenCL device.
    /// - Parameters:
    ///   - device: which device; by default `CANOPY_DEVICE`, else the first GPU, else the first device.
    ///   - options: kernel source directory and disk cache directory; by default from the environment.
    /// - Throws: ``BackendError/deviceUnavailable(_:)`` when there is no OpenCL device or none matches.
    public convenience init(device selector: OpenCLDeviceSelector = .environment,
                            options: OpenCLBackendOptions = .environment()) throws {
        try self.init(device: selector, options: options, tunables: nil)
    }

    /// Opens an OpenCL device with `tunables` when given (tests, the tuner), else with the device's tuning file
    /// when the profile is `.automatic` and one is valid, else with the profile's defaults.
    init(device selector: OpenCLDeviceSelector, options: OpenCLBackendOptions, tunables override: CLTunables?) throws {
        let environment = ProcessInfo.processInfo.environment
        device = try CLDevice(selector: selector, environment: environment)
        let sources = KernelSources(directory: options.kernelDirectory)
        programs = CLProgramCache(device: device, sources: sources,
                                  disk: options.cacheDirectory.map { CLDiskCache(directory: $0) },
                                  binaries: options.binaryCaching == .always
                                      || !device.info.keepsCompiledKernels(environment: environment))
        tunables = CLTunables(device: device, profile: options.tuning)
        staging = CLUploadStaging(device: device)
        if let override {
            tunables = override
        } else if options.tuning == .automatic, let directory = options.cacheDirectory,
                  let kernels = try? sources.fingerprint() {
            let url = CLTuningFile.url(directory: directory, device: device.info)
            if let tuned = CLTuningFile.load(url, kernels: kernels, device: device.info) {
                tunables = tuned
                tuningFile = url
            }
        }
    }

    /// Every OpenCL device of every platform, for `canopy devices` and for choosing a selector.
    /// - Throws: ``BackendError/deviceUnavailable(_:)`` when no OpenCL platform or device exists.
    public static func availableDevices() throws -> [OpenCLDeviceInfo] {
        try CLDevice.enumerate().map(\.info)
    }

    /// Allocates a zero-filled device buffer of `count` floats, 1 ≤ `count` ≤ `Int32.max` (kernels index with `int`).
    public func makeBuffer(count: Int) throws -> DeviceBuffer {
        guard count >= 1, count <= Int(Int32.max) else {
            throw BackendError.invalidArguments(kernel: "makeBuffer",
                reason: "count must be between 1 and \(Int32.max) (kernels index with 32-bit ints), got \(count)")
        }
        return try CLBuffer(device: device, count: count)
    }

    /// Copies `values` into `buffer` from element `offset`, after the work enqueued before it, without waiting for
    /// the device: the values are copied to host staging memory first (see ``CLUploadStaging``), so `values` may
    /// be reused as soon as this returns.
    public func upload(_ values: UnsafeBufferPointer<Float>, to buffer: DeviceBuffer, offset: Int) throws {
        let target = try own(buffer)
        guard offset >= 0, offset + values.count <= target.count else {
            throw BackendError.invalidArguments(kernel: "upload",
                reason: "\(values.count) values at offset \(offset) do not fit a buffer of \(target.count)")
        }
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try staging.upload(UnsafeRawBufferPointer(start: base, count: values.count * MemoryLayout<Float>.size),
                           to: target.memory, byteOffset: offset * MemoryLayout<Float>.size)
    }

    /// Copies `destination.count` floats from element `offset` of `buffer` with a blocking read, after all enqueued
    /// work; then saves the binaries of programs that have run to the disk cache (in the background once a plan is
    /// prepared; see ``waitForDiskCache()``).
    public func download(_ buffer: DeviceBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let source = try own(buffer)
        guard offset >= 0, offset + destination.count <= source.count else {
            throw BackendError.invalidArguments(kernel: "download",
                reason: "\(destination.count) values at offset \(offset) exceed a buffer of \(source.count)")
        }
        guard let base = destination.baseAddress, !destination.isEmpty else { return try synchronize() }
        let size = MemoryLayout<Float>.size
        try CLError.check(clEnqueueReadBuffer(device.queue, source.memory, cl_bool(CL_TRUE), offset * size,
                                              destination.count * size, base, 0, nil, nil),
                          "clEnqueueReadBuffer", "downloading \(destination.count) floats")
        programs.saveLaunchedBinaries()
    }

    /// Waits for every enqueued kernel and copy (`clFinish`), then saves the binaries of programs that have run
    /// to the disk cache (in the background once a plan is prepared; see ``waitForDiskCache()``).
    public func synchronize() throws {
        try CLError.check(clFinish(device.queue), "clFinish", "waiting for enqueued kernels")
        programs.saveLaunchedBinaries()
    }

    /// Waits for enqueued work, saves the binary of every program that has run a kernel its cached binary lacks,
    /// and waits until every binary is written (and every program ``prepare(kernels:)`` started is built).
    ///
    /// Once a plan is prepared, binaries are saved in the background and only at a sync point reached without
    /// any kernel running for the first time since the previous one: asking a driver such as PoCL for a binary
    /// compiles every kernel of the program (seconds on a CPU), which must not hold up a first step still
    /// compiling its own kernels. ``compileStatistics`` and releasing the backend do this too, so a process that
    /// ends normally leaves a complete cache.
    public func waitForDiskCache() {
        _ = clFinish(device.queue)
        programs.flushSaves()
    }

    deinit {
        waitForDiskCache()
        // A helper still compiling works for a process that no longer needs it.
        if let compileHelper, compileHelper.isRunning { compileHelper.terminate() }
    }

    // MARK: - Helpers for the kernel families

    /// `buffer` as this backend's buffer, or ``BackendError/foreignBuffer(backend:)``.
    func own(_ buffer: DeviceBuffer) throws -> CLBuffer {
        guard let buffer = buffer as? CLBuffer, buffer.owner == ObjectIdentifier(device) else {
            throw BackendError.foreignBuffer(backend: name)
        }
        return buffer
    }

    /// Buffer arguments for a launch, each checked to be this backend's.
    func bind(_ buffers: DeviceBuffer...) throws -> [CLArgument] {
        try buffers.map { CLArgument.buffer(try own($0)) }
    }

    /// Enqueues `kernel` with `arguments`, which must match its signature in number and kind. During a
    /// rehearsal (``prepare(kernels:)``) only notes the program and the launch shape.
    func launch(_ kernel: CLKernelSignature, _ arguments: [CLArgument], global: [Int], local: [Int]) throws {
        let options = tunables.options(for: kernel.file)
        if let rehearsal {
            return rehearsal.noteLaunch(kernel, options: options, arguments: arguments, global: global, local: local)
        }
        let object = try programs.kernel(kernel, options: options)
        try CLLaunch.enqueue(object, kernel, on: device, arguments: arguments, global: global, local: local)
        launchCount += 1
    }

    /// The kernel object, for choosing a work-group size within its limit before launching it. During a
    /// rehearsal, a stand-in with the device's limit when the program is not built yet (nothing is built).
    func kernel(_ kernel: CLKernelSignature) throws -> CLKernel {
        let options = tunables.options(for: kernel.file)
        if let rehearsal { return try rehearsal.kernel(kernel, options: options, programs: programs, device: device) }
        return try programs.kernel(kernel, options: options)
    }

    /// Scratch buffer `slot` with room for at least `count` floats (contents undefined).
    func scratchBuffer(_ slot: Int, count: Int) throws -> CLBuffer {
        while scratch.count <= slot { scratch.append(try CLBuffer(device: device, count: 1)) }
        if scratch[slot].count < count {
            scratch[slot] = try CLBuffer(device: device, count: count)
        }
        return scratch[slot]
    }
}
