import CanopyCore
import Foundation

/// One kernel launch as a rehearsal sees it: the kernel and the sizes asked for (before any shrinking to the
/// kernel's work-group limit).
struct CLLaunchShape: Hashable {
    let kernel: String
    let global: [Int]
    let local: [Int]
}

/// What a rehearsal of a plan found: the programs its kernels need, in the order they are first needed, and the
/// launches they make. Filled by ``OpenCLBackend/launch(_:_:global:local:)`` and ``OpenCLBackend/kernel(_:)``
/// while ``OpenCLBackend/rehearsal`` is set, instead of enqueueing or building anything.
final class CLRehearsal {
    private(set) var programs: [CLProgramKey] = []
    private var seen: Set<CLProgramKey> = []
    private(set) var launches: Set<CLLaunchShape> = []
    /// The first launch of each kernel with each shape and build options, in the order the plan makes them, with
    /// its arguments' kinds, lengths and scalars (for a compile helper, ``OpenCLCompileHelper``).
    private(set) var warmups: [CLWarmupLaunch] = []
    private var warmed: Set<[String]> = []

    private func note(_ key: CLProgramKey) {
        if seen.insert(key).inserted { programs.append(key) }
    }

    func noteLaunch(_ signature: CLKernelSignature, options: String, arguments: [CLArgument], global: [Int],
                    local: [Int]) {
        note(CLProgramKey(file: signature.file, options: options))
        launches.insert(CLLaunchShape(kernel: signature.name, global: global, local: local))
        if warmed.insert([signature.name, options, "\(global)", "\(local)"]).inserted {
            warmups.append(CLWarmupLaunch(signature, options: options, arguments: arguments, global: global,
                                          local: local))
        }
    }

    /// The kernel object when its program is built already, else a stand-in with the device's work-group limit:
    /// a kernel family only reads the limit to size its launch, and the rehearsal needs the programs, not the
    /// exact sizes.
    func kernel(_ signature: CLKernelSignature, options: String, programs cache: CLProgramCache,
                device: CLDevice) throws -> CLKernel {
        note(CLProgramKey(file: signature.file, options: options))
        if let kernel = try cache.builtKernel(signature, options: options) { return kernel }
        return CLKernel(standInFor: signature.name, maxWorkGroupSize: device.info.maxWorkGroupSize)
    }
}

extension OpenCLBackend {
    /// Starts building (or loading from the disk cache) every program `kernels` will use, in the background, as
    /// one program where their files can share one (``CLProgramBundle``), and returns; the executor calls it with a plan's calls as soon as
    /// the plan is made, so that the programs are ready, or nearly, when the first step launches them (a launch
    /// waits only for its own program).
    ///
    /// The calls are rehearsed: each goes through ``execute(_:)`` with launches noted instead of enqueued, so the
    /// programs found are those the real calls use, with the same build options. Nothing runs and no buffer
    /// changes (scratch buffers the calls need may be allocated). A call the rehearsal cannot check (an invalid
    /// call) is left for its real launch to report, and so is a program that fails to build.
    public func prepare(kernels: [Kernel]) throws {
        let current = CLRehearsal()
        rehearsal = current
        defer { rehearsal = nil }
        for kernel in kernels {
            do {
                try execute(kernel)
            } catch {
                continue
            }
        }
        preparedLaunches.formUnion(current.launches)
        preparedWarmups = current.warmups
        programs.savesWaitForQuietSync = true
        // The helper builds the same programs (the same bundles: the driver's cache keeps the kernels it compiles
        // under the programs this process builds) and compiles from the last launch back.
        startCompileHelper(current, bundles: programs.bundles(for: current.programs))
        programs.prepare(current.programs)
    }

    /// Starts a compile helper (``OpenCLCompileHelper``) for the rehearsed launches when one is useful on this
    /// device and some program of the plan (`bundles`, as they will be built) has never been compiled here (by
    /// the disk cache's records): a plan whose programs are all known compiled starts nothing, so a warm first
    /// step costs no extra process.
    private func startCompileHelper(_ rehearsal: CLRehearsal, bundles: [CLProgramBundle]) {
        let environment = ProcessInfo.processInfo.environment
        guard compileHelper?.isRunning != true, !rehearsal.warmups.isEmpty,
              OpenCLCompileHelper.isUseful(for: device.info, environment: environment),
              bundles.contains(where: { !programs.isOnDisk($0) })
        else { return }
        compileHelper = OpenCLCompileHelper.start(rehearsal.warmups, bundles: bundles, device: device.info)
    }
}
