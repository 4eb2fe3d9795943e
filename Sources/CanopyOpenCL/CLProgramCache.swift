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
    /// Programs built from source whose kernels the driver's own cache held already, as the disk cache's record
    /// of an earlier run says (PoCL; see ``OpenCLBinaryCaching/automatic``): they cost no compiling.
    public var builtFromDriverCache = 0
    /// Cache files that existed but were damaged or rejected by the driver, and were rebuilt.
    public var rejectedCacheFiles = 0
    /// Binaries (or, where the driver caches kernels itself, records of the programs it compiled) written to the
    /// disk cache.
    public var binariesSaved = 0
    /// The last failure to write the disk cache (the cache is an optimisation: a failure does not stop work).
    public var lastSaveError: String?

    public var description: String {
        "\(builtFromSource) built from source, \(loadedFromBinary) loaded from the disk cache, "
            + (builtFromDriverCache > 0 ? "\(builtFromDriverCache) built from the driver's kernel cache, " : "")
            + "\(rejectedCacheFiles) cache files rejected, \(binariesSaved) binaries saved"
    }
}

/// One built program (of one kernel file, or a ``CLProgramBundle`` of several) and the kernel objects made from it. The program handle may be used from any thread (OpenCL
/// API calls are thread-safe but for setting a kernel's arguments); `kernels`, `launched` and `saved` belong to the
/// thread that launches kernels, hence `@unchecked Sendable`.
final class CLProgram: @unchecked Sendable {
    let program: cl_program
    /// The file's name, or a bundle's label (for messages and the disk cache).
    let file: String
    /// The kernel files whose kernels it holds.
    let files: Set<String>
    /// Where its binary is cached on disk (nil when the disk cache is off).
    let cacheURL: URL?
    var kernels: [String: CLKernel] = [:]
    /// Kernels launched so far, and those the saved binary already contains (PoCL compiles at first launch,
    /// so a binary saved before a kernel has run would make the next process compile it again).
    var launched: Set<String> = []
    var saved: Set<String> = []

    init(program: cl_program, file: String, files: Set<String>, cacheURL: URL?, saved: Set<String>) {
        self.program = program; self.file = file; self.files = files; self.cacheURL = cacheURL; self.saved = saved
    }

    deinit {
        kernels.removeAll()
        clReleaseProgram(program)
    }
}

/// Which program a kernel needs: its file and the build options (`-D` tunables) it is built with.
struct CLProgramKey: Hashable {
    let file: CLKernelFile
    let options: String
}

/// A program being built in the background by ``CLProgramCache/prepare(_:warmCompiler:fixed:)``.
private final class CLPendingBuild {
    let done = DispatchGroup()
    var result: Result<CLProgram, Error>?
    init() { done.enter() }
}

/// Programs by (file, build options), built once per backend; binaries cached on disk across processes.
///
/// Programs are built when a kernel first needs one, or ahead of need by ``prepare(_:)``: in
/// the background, on one builder thread, the files prepared built together as one program where they can be (a
/// ``CLProgramBundle``: one compiler pass instead of one per file), while the caller goes on (a launch that needs
/// a program still being built waits for that one only).
/// Binaries are saved at sync points once their kernels have run (see ``saveLaunchedBinaries()``);
/// ``waitForBackgroundWork()`` waits for background builds and writes, and so do ``statistics`` and `deinit`.
///
/// Shared with its builder threads and the binary writer: the tables and counts are guarded by `lock`; a
/// ``CLProgram``'s `launched`, `saved` and `kernels` and the sync flags are touched only by the thread that
/// launches kernels (the backend's owner), hence `@unchecked Sendable`.
final class CLProgramCache: @unchecked Sendable {
    let device: CLDevice
    let sources: KernelSources
    let disk: CLDiskCache?
    /// Whether the disk cache holds programs' binaries, or (false) only records of the programs the driver has
    /// compiled, for a driver that keeps compiled kernels in a cache of its own (see ``OpenCLBinaryCaching``).
    let savesBinaries: Bool
    /// Guards `programs`, `pending`, `queue` and `counts`.
    private let lock = NSLock()
    private var programs: [CLProgramKey: CLProgram] = [:]
    /// Programs handed to the background builders and not yet taken by a launch.
    private var pending: [CLProgramKey: CLPendingBuild] = [:]
    /// Programs waiting for the builder thread, first needed first. Each call of ``prepare(_:)`` makes its own
    /// bundles (never merged with another call's, however the calls are timed), so that every run with the same
    /// plans builds the same programs and finds them in the driver's and the disk cache, and a compile helper
    /// told a plan's bundles builds exactly the programs this process builds.
    private var queue: [CLProgramBundle] = []
    /// Whether a builder thread is running (it takes whatever is queued until the queue is empty).
    private var building = false
    private var counts = OpenCLCompileStatistics()
    private let backgroundWork = DispatchGroup()
    /// Writes binaries one at a time, off the thread that launches kernels.
    private let writer = DispatchQueue(label: "canopy.opencl.binary-cache", qos: .utility)

    init(device: CLDevice, sources: KernelSources, disk: CLDiskCache?, binaries: Bool) {
        self.device = device; self.sources = sources; self.disk = disk; self.savesBinaries = binaries
    }

    deinit { waitForBackgroundWork() }

    /// How the programs were obtained, once every background build and binary write has finished.
    var statistics: OpenCLCompileStatistics {
        waitForBackgroundWork()
        return lock.withLock { counts }
    }

    /// Waits until every program ``prepare(_:)`` started is built and every binary scheduled for the disk cache
    /// is on disk (or has failed to be written).
    func waitForBackgroundWork() { backgroundWork.wait() }

    /// The kernel object of `signature` built with `options`, building (or loading) its file's program on first
    /// use, and noting that it is about to run.
    func kernel(_ signature: CLKernelSignature, options: String) throws -> CLKernel {
        let program = try self.program(CLProgramKey(file: signature.file, options: options))
        if program.launched.insert(signature.name).inserted { newKernelsSinceSync = true }
        return try kernel(signature, of: program)
    }

    /// The kernel object of `signature` if its program is already built or loaded; nil otherwise (builds and
    /// waits for nothing).
    func builtKernel(_ signature: CLKernelSignature, options: String) throws -> CLKernel? {
        let key = CLProgramKey(file: signature.file, options: options)
        guard let program = lock.withLock({ programs[key] }) else { return nil }
        return try kernel(signature, of: program)
    }

    /// Whether the program for `key` is built, loaded, or being built in the background.
    func has(_ key: CLProgramKey) -> Bool { lock.withLock { programs[key] != nil || pending[key] != nil } }

    private func kernel(_ signature: CLKernelSignature, of program: CLProgram) throws -> CLKernel {
        if let kernel = program.kernels[signature.name] { return kernel }
        let kernel = try CLKernel(program: program.program, name: signature.name, device: device, file: program.file)
        program.kernels[signature.name] = kernel
        return kernel
    }

    /// The names of the kernels in `file`'s program as the compiler built it (`CL_PROGRAM_KERNEL_NAMES`): the
    /// file's own program, built apart when the file's kernels are in a ``CLProgramBundle`` (which lists them all).
    func kernelNames(in file: CLKernelFile, options: String) throws -> [String] {
        let program = try program(CLProgramKey(file: file, options: options))
        guard program.files.count > 1 else { return try CLProgramCache.kernelNames(of: program.program) }
        let alone = try CLCompiler.build(source: try sources.programSource(of: file.rawValue), file: file.rawValue,
                                         options: options, device: device)
        defer { clReleaseProgram(alone) }
        return try CLProgramCache.kernelNames(of: alone)
    }

    /// How ``prepare(_:)`` would build the programs of `keys` not built or started yet: the bundles it would make.
    func bundles(for keys: [CLProgramKey]) -> [CLProgramBundle] {
        CLProgramBundle.grouping(lock.withLock { fresh(keys) })
    }

    /// The keys of `keys` not built, loaded or being built, each once, in order (call with `lock` held).
    private func fresh(_ keys: [CLProgramKey]) -> [CLProgramKey] {
        var seen: Set<CLProgramKey> = []
        return keys.filter { programs[$0] == nil && pending[$0] == nil && seen.insert($0).inserted }
    }

    /// Starts building (or loading) in the background every program of `keys` not built or started yet, grouped
    /// as ``bundles(for:)`` says (the files that can share a program as one, then any others in the order given),
    /// and returns at once. One builder thread builds them, then whatever later calls queued: PoCL compiles one
    /// program at a time in a process, and other drivers get one program per plan anyway. A program that fails
    /// to build throws when a launch needs it, as it would have without preparing (built then from its own file).
    func prepare(_ keys: [CLProgramKey]) {
        let start: Bool = lock.withLock {
            let fresh = fresh(keys)
            for key in fresh { pending[key] = CLPendingBuild() }
            queue += CLProgramBundle.grouping(fresh)
            guard !fresh.isEmpty, !building else { return false }
            building = true
            return true
        }
        guard start else { return }
        backgroundWork.enter()
        // A thread of its own, not the shared pool: a caller waiting for a build must never hold the thread the
        // build needs.
        let builder = Thread { [self] in
            defer { backgroundWork.leave() }
            while let bundle = takeQueued() {
                let result = Result { try makeProgram(bundle) }
                let builds = lock.withLock { () -> [CLPendingBuild] in
                    if case let .success((program, made)) = result {
                        add(made)
                        for key in bundle.members { programs[key] = program }
                    }
                    return bundle.members.compactMap { pending.removeValue(forKey: $0) }
                }
                for build in builds {
                    build.result = result.map(\.0)
                    build.done.leave()
                }
            }
        }
        builder.name = "canopy.opencl.program-builder"
        builder.start()
    }

    /// The next bundle queued, or nil when the queue is empty (and then the builder is done).
    private func takeQueued() -> CLProgramBundle? {
        lock.withLock {
            guard !queue.isEmpty else {
                building = false
                return nil
            }
            return queue.removeFirst()
        }
    }

    /// The program for `key`: built or loaded already, being built in the background (waits for it), or built
    /// or loaded now.
    private func program(_ key: CLProgramKey) throws -> CLProgram {
        let (existing, build) = lock.withLock { (programs[key], pending[key]) }
        if let existing { return existing }
        if let build {
            build.done.wait()
            // A failed background build is retried here, so that its error comes from this launch.
            if case let .success(program)? = build.result { return program }
        }
        let (program, made) = try makeProgram(CLProgramBundle(members: [key], options: key.options))
        return lock.withLock {
            add(made)
            if let existing = programs[key] { return existing }
            programs[key] = program
            return program
        }
    }

    /// Adds what making a program took to the statistics (call with `lock` held).
    private func add(_ made: OpenCLCompileStatistics) {
        counts.builtFromSource += made.builtFromSource
        counts.loadedFromBinary += made.loadedFromBinary
        counts.builtFromDriverCache += made.builtFromDriverCache
        counts.rejectedCacheFiles += made.rejectedCacheFiles
    }

    /// Loads `bundle`'s program from the disk cache, or builds it from source; safe to call from several threads
    /// at once (it touches no shared state). Returns the program and how it was made.
    private func makeProgram(_ bundle: CLProgramBundle) throws -> (CLProgram, OpenCLCompileStatistics) {
        let file = bundle.members.count == 1 ? bundle.files[0] : bundle.label, options = bundle.options
        let files = Set(bundle.files)
        var made = OpenCLCompileStatistics()
        let source = try sources.programSource(of: bundle)
        var cacheURL: URL?
        // Where the driver caches kernels itself: the kernels an earlier run's record says it compiled, if any.
        var recorded: Set<String>?
        if let disk {
            let url = diskURL(disk, file: file, options: options, source: source)
            cacheURL = url
            if !savesBinaries {
                // Only a record: the driver's own cache has the kernels if an earlier run compiled them.
                recorded = disk.read(url)?.kernels
            } else if FileManager.default.fileExists(atPath: url.path) {
                if let saved = disk.read(url), let built = CLCompiler.load(binary: saved.binary, options: options, device: device) {
                    made.loadedFromBinary += 1
                    let program = CLProgram(program: built, file: file, files: files, cacheURL: url, saved: saved.kernels)
                    try checkAgainstTable(program)
                    return (program, made)
                }
                made.rejectedCacheFiles += 1
            }
        }
        let built = try CLCompiler.build(source: source, file: file, options: options, device: device)
        if recorded == nil { made.builtFromSource += 1 } else { made.builtFromDriverCache += 1 }
        let program = CLProgram(program: built, file: file, files: files, cacheURL: cacheURL, saved: recorded ?? [])
        try checkAgainstTable(program)
        return (program, made)
    }

    /// The disk cache file of `file`'s program built with `options` from `source` on this device and driver.
    private func diskURL(_ disk: CLDiskCache, file: String, options: String, source: String) -> URL {
        var hash = FNV1a64()
        let info = device.info
        for field in ["canopy-program-cache-1", info.platformName, info.platformVersion, info.name,
                      info.driverVersion, info.deviceVersion, options, source] {
            hash.add(field: field)
        }
        return disk.url(file: file, key: hash.value, binary: savesBinaries)
    }

    /// Whether the disk cache has a file (binary or record) for `key`'s program: false when this device and driver
    /// have not compiled it in an earlier run, or when the disk cache is off.
    func isOnDisk(_ key: CLProgramKey) -> Bool { isOnDisk(CLProgramBundle(members: [key], options: key.options)) }

    /// Whether the disk cache has a file (binary or record) for `bundle`'s program (see ``isOnDisk(_:)-(CLProgramKey)``).
    func isOnDisk(_ bundle: CLProgramBundle) -> Bool {
        guard let disk, let source = try? sources.programSource(of: bundle) else { return false }
        let file = bundle.members.count == 1 ? bundle.files[0] : bundle.label
        let url = diskURL(disk, file: file, options: bundle.options, source: source)
        return FileManager.default.fileExists(atPath: url.path)
    }

    /// Throws unless every kernel of a freshly loaded program is in the table generated from `Kernels/` at build
    /// time, declared in this file, with as many arguments as the compiled kernel takes. Catches a kernel file
    /// edited out of step with the Swift that launches it (say from `CANOPY_KERNEL_DIR`) before anything runs.
    /// The kernel objects made for the check are kept for launching.
    private func checkAgainstTable(_ program: CLProgram) throws {
        for name in try CLProgramCache.kernelNames(of: program.program) {
            guard let signature = CLKernels.byName[name], program.files.contains(signature.file.rawValue) else {
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
    static func kernelNames(of program: cl_program) throws -> [String] {
        let list = try CLDevice.readString("clGetProgramInfo", "listing a program's kernels") { size, buffer, sizeOut in
            clGetProgramInfo(program, cl_program_info(CL_PROGRAM_KERNEL_NAMES), size, buffer, sizeOut)
        }
        return list.split(separator: ";").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Whether saving waits for a quiet sync point and happens in the background (set once a plan is prepared).
    var savesWaitForQuietSync = false
    /// Whether a kernel ran for the first time since the last sync point.
    private var newKernelsSinceSync = false

    /// At a sync point (the queue has finished, so the driver has compiled everything that ran): saves every
    /// program that has run a kernel its saved binary lacks.
    ///
    /// Without a prepared plan, saves now, before returning. With one (``savesWaitForQuietSync``), the run is
    /// under way and saving would hold up kernels still being compiled (PoCL compiles every kernel of a program
    /// for its binary, under the lock its launches need): saves only at a sync point reached without any kernel
    /// running for the first time since the previous one (a step that repeats), and then in the background.
    func saveLaunchedBinaries() {
        defer { newKernelsSinceSync = false }
        guard savesWaitForQuietSync else { return saveUnsaved(inBackground: false) }
        if !newKernelsSinceSync { saveUnsaved(inBackground: true) }
    }

    /// Saves everything that has run and is not saved yet, and waits for every background build and write. Call
    /// after the queue has finished.
    func flushSaves() {
        saveUnsaved(inBackground: true)
        waitForBackgroundWork()
    }

    private func saveUnsaved(inBackground: Bool) {
        guard let disk else { return }
        // A bundle is in the table once per file: each program once.
        var seen: Set<ObjectIdentifier> = []
        let allPrograms = lock.withLock { programs.values.filter { seen.insert(ObjectIdentifier($0)).inserted } }
        for program in allPrograms where !program.launched.isSubset(of: program.saved) {
            guard let url = program.cacheURL else { continue }
            let kernels = program.launched.union(program.saved)
            // Marked as saved now (even if the write fails): a cache that cannot be written is not retried every step.
            program.saved = kernels
            let device = self.device, savesBinaries = self.savesBinaries
            let save: @Sendable () -> Void = { [self] in
                do {
                    let binary = savesBinaries ? try CLCompiler.binary(of: program.program, device: device) : []
                    try disk.write(url, kernels: kernels, binary: binary)
                    lock.withLock { counts.binariesSaved += 1 }
                } catch {
                    lock.withLock { counts.lastSaveError = "saving \(url.path): \(error)" }
                }
            }
            guard inBackground else { save(); continue }
            backgroundWork.enter()
            writer.async { [self] in
                defer { backgroundWork.leave() }
                save()
            }
        }
    }
}
