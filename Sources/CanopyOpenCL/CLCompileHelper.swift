import CanopyCore
import COpenCL
import Foundation

/// One launch a rehearsal saw, as a compile helper replays it: the program, the kernel, the sizes asked for and
/// the arguments' kinds, with each buffer's length and each scalar's value (never a buffer's contents).
struct CLWarmupLaunch: Codable, Hashable {
    /// One argument: a buffer of `count` floats, or a scalar of the kernel's type.
    enum Argument: Codable, Hashable {
        case buffer(count: Int)
        case int(Int)
        case float(Float)
        case uint(UInt32)
    }

    let file: String
    let options: String
    let kernel: String
    let global: [Int]
    let local: [Int]
    let arguments: [Argument]

    /// The program this launch needs (nil for a file this build does not know).
    var programKey: CLProgramKey? { CLKernelFile(rawValue: file).map { CLProgramKey(file: $0, options: options) } }

    init(_ signature: CLKernelSignature, options: String, arguments: [CLArgument], global: [Int], local: [Int]) {
        file = signature.file.rawValue
        self.options = options
        kernel = signature.name
        self.global = global
        self.local = local
        self.arguments = arguments.map {
            switch $0 {
            case let .buffer(buffer): return .buffer(count: buffer.count)
            case let .int(value): return .int(value)
            case let .float(value): return .float(value)
            case let .uint(value): return .uint(value)
            }
        }
    }
}

/// A program the parent builds from several files (a ``CLProgramBundle``), for a helper to build the same.
struct CLWarmupBundle: Codable, Hashable {
    /// Each member's file and options.
    let files: [String]
    let memberOptions: [String]
    /// The bundle's build options.
    let options: String

    init(_ bundle: CLProgramBundle) {
        files = bundle.files
        memberOptions = bundle.members.map(\.options)
        options = bundle.options
    }

    /// The bundle again (nil when a file is one this build does not know).
    var bundle: CLProgramBundle? {
        let members = zip(files, memberOptions).compactMap { file, options in
            CLKernelFile(rawValue: file).map { CLProgramKey(file: $0, options: options) }
        }
        return members.count == files.count ? CLProgramBundle(members: members, options: options) : nil
    }
}

/// What a compile helper process is asked to do: open the device `platform:device`, and replay `launches` in
/// order on buffers of its own, building a launch's program from `bundles` when one holds it (as the parent
/// does), else from its file alone.
struct CLWarmupJob: Codable {
    let platform: Int
    let device: Int
    let launches: [CLWarmupLaunch]
    var bundles: [CLWarmupBundle]? = nil
}

/// A second process that compiles a plan's kernels into the driver's persistent kernel cache while this process
/// compiles the others, for a driver that compiles one kernel at a time per process and keeps what it compiled
/// for every process (PoCL: ``OpenCLDeviceInfo/compilesOneKernelAtATime`` and
/// ``OpenCLDeviceInfo/keepsCompiledKernels(environment:)``). With a second core idle, this process's first step
/// finds part of its kernels (and programs) compiled when it reaches them.
///
/// The helper is this same executable, started again with `CANOPY_OPENCL_COMPILE_JOB` naming a job file: an
/// executable offers itself by calling ``serveIfAsked()`` first thing in `main` (the `canopy` command does); in a
/// process that has not called it (a test runner, a program embedding Canopy) no helper is started and nothing
/// changes.
///
/// The helper replays the plan's launches from the last to the first (this process compiles from the first), each
/// on zero-filled buffers of its own with the lengths and scalars the real launch has, so every launch stays in
/// bounds exactly as the real one does; it shares no memory with this process and cannot change its buffers. It
/// stops when its parent exits, and after two minutes in any case. A helper starts only when the host has an idle
/// core (``hasIdleCore``), unless `CANOPY_OPENCL_COMPILE_HELPER` is `1` (always) or `0` (never). If it fails or
/// is slow, this process compiles what it needs itself, as it would without it: the helper only ever saves work.
public enum OpenCLCompileHelper {
    /// The environment variable naming the job file of a helper process.
    static let jobVariable = "CANOPY_OPENCL_COMPILE_JOB"
    /// `CANOPY_OPENCL_COMPILE_HELPER=0` turns helpers off, `=1` starts them even on a busy host (to measure).
    static let switchVariable = "CANOPY_OPENCL_COMPILE_HELPER"

    private static let lock = NSLock()
    /// Whether this executable called ``serveIfAsked()`` (guarded by `lock`).
    nonisolated(unsafe) private static var offered = false

    /// Call first thing in an executable's `main`: in a helper process started by an ``OpenCLBackend`` this does the
    /// helper's work and exits the process; otherwise it returns at once, and from then on backends in this process
    /// may start this executable as a helper.
    public static func serveIfAsked() {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment[jobVariable], !path.isEmpty {
            serve(jobFile: URL(fileURLWithPath: path), environment: environment)
            exit(0)
        }
        lock.withLock { offered = true }
    }

    /// Whether a helper may be started for `device` in this process: the executable offered itself, the driver
    /// compiles one kernel at a time per process and keeps its kernels for other processes, the host has a core
    /// to spare, and helpers are not switched off.
    static func isUseful(for device: OpenCLDeviceInfo, environment: [String: String]) -> Bool {
        lock.withLock { offered } && environment[switchVariable] != "0" && device.compilesOneKernelAtATime
            && device.keepsCompiledKernels(environment: environment)
            && (environment[switchVariable] == "1" || hasIdleCore)
    }

    /// Whether the host has a core that nothing else uses: more than one core, and other processes' busy time over
    /// the next 50 ms (`/proc/stat` less this process's own), with one core for this process, more than half a
    /// core below their number; where
    /// `/proc/stat` cannot be read, the load average of the last minute instead. Measured on 2 cores (PoCL, W1–W3
    /// cold first steps): at load 1.3 a helper cut them from 3.2–4.8 s to 2.0–3.4 s; from load 1.5 it gained
    /// nothing; at load 5 it made them 20–40 % slower (it only takes time from this process and from the others).
    /// The load average trails by a minute: right after other work has stopped it still reads busy, so the cores'
    /// present use decides where it can be read.
    static var hasIdleCore: Bool {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard cores > 1 else { return false }
        // Other processes' use: this one's own threads (the driver's, a program already building) do not count.
        if let others = busyCores(over: 0.05, otherProcesses: true) { return others + 1 < Double(cores) - 0.5 }
        var load = [Double](repeating: 0, count: 1)
        guard getloadavg(&load, 1) == 1 else { return false }
        return load[0] < Double(cores) - 0.5
    }

    /// How many cores were busy on average over the next `seconds`, from the aggregate `cpu` line of `/proc/stat`
    /// read before and after (by `otherProcesses`, less this process's own CPU time); nil where it cannot be read.
    static func busyCores(over seconds: Double, otherProcesses: Bool = false) -> Double? {
        func ownSeconds() -> Double {
            var usage = rusage()
            #if os(Linux)
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            #else
            getrusage(RUSAGE_SELF, &usage)
            #endif
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let start = Date(), ownBefore = ownSeconds()
        guard let before = CPUTimes.read() else { return nil }
        Thread.sleep(forTimeInterval: seconds)
        guard let after = CPUTimes.read(), after.total > before.total else { return nil }
        let busy = Double(after.busy - before.busy) / Double(after.total - before.total)
            * Double(ProcessInfo.processInfo.activeProcessorCount)
        guard otherProcesses else { return busy }
        return max(0, busy - (ownSeconds() - ownBefore) / max(Date().timeIntervalSince(start), 1e-3))
    }

    /// Starts a helper replaying `launches` (in the order the plan makes them; the helper takes them last first) on
    /// `device`. Returns the running process, or nil when it could not be started (nothing else happens then).
    static func start(_ launches: [CLWarmupLaunch], bundles: [CLProgramBundle] = [],
                      device: OpenCLDeviceInfo) -> Process? {
        let job = CLWarmupJob(platform: device.platformIndex, device: device.deviceIndex, launches: launches.reversed(),
                              bundles: bundles.filter { $0.members.count > 1 }.map(CLWarmupBundle.init))
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("canopy-compile-job-\(getpid())-\(UUID().uuidString).json")
        do {
            try JSONEncoder().encode(job).write(to: file)
            let process = Process()
            guard let executable = Bundle.main.executableURL else { return nil }
            process.executableURL = executable
            process.arguments = []
            var environment = ProcessInfo.processInfo.environment
            environment[jobVariable] = file.path
            process.environment = environment
            // Never the parent's output: a parent whose output is read to its end must not wait for the helper.
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        } catch {
            try? FileManager.default.removeItem(at: file)
            return nil
        }
    }

    /// The helper's work: reads and deletes the job file, opens the device, and replays the launches, stopping
    /// early when the parent has gone. Failures end the helper quietly (the parent compiles for itself).
    static func serve(jobFile: URL, environment: [String: String]) {
        // Whatever happens (a launch that never ends on zeros, a parent that never ends), gone in two minutes.
        alarm(120)
        let parent = getppid()
        guard let data = try? Data(contentsOf: jobFile) else { return }
        try? FileManager.default.removeItem(at: jobFile)
        guard let job = try? JSONDecoder().decode(CLWarmupJob.self, from: data),
              let device = try? CLDevice(selector: .platformDevice(platform: job.platform, device: job.device),
                                         environment: environment)
        else { return }
        let sources = KernelSources(directory: environment["CANOPY_KERNEL_DIR"].flatMap {
            $0.isEmpty ? nil : URL(fileURLWithPath: $0)
        })
        replay(job.launches, bundles: (job.bundles ?? []).compactMap(\.bundle), on: device, sources: sources) {
            getppid() == parent
        }
    }

    /// Builds each launch's program (once: the bundle of `bundles` that holds its file and options, else its file
    /// alone) and runs the launch on fresh zero-filled buffers of the recorded lengths, waiting for each; skips a
    /// launch that cannot be made. Stops when `keepGoing` says so. Returns how many launches ran.
    @discardableResult
    static func replay(_ launches: [CLWarmupLaunch], bundles: [CLProgramBundle] = [], on device: CLDevice,
                       sources: KernelSources, keepGoing: () -> Bool = { true }) -> Int {
        var programs: [CLProgramBundle: cl_program] = [:]
        defer { programs.values.forEach { clReleaseProgram($0) } }
        var bundleOf: [CLProgramKey: CLProgramBundle] = [:]
        for bundle in bundles {
            for member in bundle.members { bundleOf[member] = bundle }
        }
        var ran = 0
        for launch in launches {
            guard keepGoing() else { return ran }
            guard let signature = CLKernels.byName[launch.kernel], signature.file.rawValue == launch.file,
                  let key = launch.programKey else { continue }
            // The launch's program: its bundle's, else its file's alone (a bundle of one).
            let bundle = bundleOf[key] ?? CLProgramBundle(members: [key], options: key.options)
            if programs[bundle] == nil {
                guard let source = try? sources.programSource(of: bundle),
                      let program = try? CLCompiler.build(source: source, file: bundle.label, options: bundle.options,
                                                          device: device)
                else { continue }
                programs[bundle] = program
            }
            guard let program = programs[bundle],
                  let kernel = try? CLKernel(program: program, name: launch.kernel, device: device, file: launch.file),
                  let arguments = try? launch.arguments.map({ argument -> CLArgument in
                      switch argument {
                      case let .buffer(count): return .buffer(try CLBuffer(device: device, count: count))
                      case let .int(value): return .int(value)
                      case let .float(value): return .float(value)
                      case let .uint(value): return .uint(value)
                      }
                  })
            else { continue }
            guard (try? CLLaunch.enqueue(kernel, signature, on: device, arguments: arguments, global: launch.global,
                                         local: launch.local)) != nil else { continue }
            if clFinish(device.queue) == CL_SUCCESS { ran += 1 }
        }
        return ran
    }
}

/// The aggregate CPU times of `/proc/stat`'s first line, in clock ticks: all of them and the busy ones (all but idle
/// and I/O wait).
struct CPUTimes: Equatable {
    var total: UInt64, busy: UInt64

    /// The times now, or nil where `/proc/stat` cannot be read or parsed.
    static func read() -> CPUTimes? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return parse(text)
    }

    /// The times of a `/proc/stat` text's `cpu ` line: user nice system idle iowait irq softirq steal, then guest
    /// times already counted in user and nice (left out).
    static func parse(_ text: String) -> CPUTimes? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let fields = Array(line.split(separator: " ").dropFirst().compactMap { UInt64($0) }.prefix(8))
        guard fields.count >= 4 else { return nil }
        let total = fields.reduce(0, +), idle = fields[3] + (fields.count > 4 ? fields[4] : 0)
        return CPUTimes(total: total, busy: total - idle)
    }
}
