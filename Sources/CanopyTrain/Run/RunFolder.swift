import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error about a run's output folder or one of its files, naming the folder (or file) and the role.
public struct RunFolderError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The folder or file concerned, as the user named it.
    public var path: String
    /// What is wrong, and what to do about it.
    public var message: String

    /// Creates an error about `path`.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "output folder '\(path)': \(message)" }
}

/// A training run's output folder, held by one process at a time.
///
/// Opening one:
/// 1. creates the folder (and its parents) when missing, with an error naming the part of the path that is in
///    the way (a file, a read-only folder, a name too long);
/// 2. takes an exclusive `flock(2)` on `.canopy.lock` inside it, so that a second `canopy train` on the same
///    folder is refused (the lock goes with the process: a killed run leaves no stale lock);
/// 3. removes temporary files a killed atomic write left behind (`.<name>.tmp-<pid>-<n>`);
/// 4. checks the folder against how the run starts: a new run refuses a folder that already holds a run, an
///    overwriting run removes the old run's files first (checkpoint first, so a kill in between never leaves a
///    checkpoint whose log was emptied), and a resumed run needs the checkpoint.
///
/// The files of a run are ``RunFolder/checkpointURL``, ``RunFolder/parametersURL``, ``RunFolder/metricsURL``
/// and ``RunFolder/baselinesURL``; ``RunOutput`` writes them in one ordered commit per epoch.
public final class RunFolder {
    /// How a run starts in its folder.
    public enum Start: Sendable {
        /// A new run: the folder must not hold one.
        case new
        /// A new run replacing whatever run the folder holds.
        case overwrite
        /// Continues the run the folder holds (its `checkpoint.safetensors`).
        case resume
    }

    /// The folder.
    public let url: URL
    /// The folder as the user named it, for messages.
    public let path: String
    private let lockDescriptor: Int32

    /// The files that make up a run, in the order an overwrite removes them.
    public static let runFileNames = ["checkpoint.safetensors", "parameters.safetensors", "metrics.jsonl",
                                      "baselines.json"]
    /// The lock file's name.
    public static let lockFileName = ".canopy.lock"

    /// `<folder>/checkpoint.safetensors`: everything needed to resume.
    public var checkpointURL: URL { url.appendingPathComponent("checkpoint.safetensors") }
    /// `<folder>/parameters.safetensors`: the parameters the run keeps (its last or its best epoch's).
    public var parametersURL: URL { url.appendingPathComponent("parameters.safetensors") }
    /// `<folder>/metrics.jsonl`: one JSON object per epoch, split and task.
    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    /// `<folder>/baselines.json`: single-task baselines and Δm, when `--baselines` ran.
    public var baselinesURL: URL { url.appendingPathComponent("baselines.json") }

    /// Opens (creating when needed) and locks a run folder.
    ///
    /// - Throws: ``RunFolderError`` when the path is empty, cannot be created, is held by another process, or
    ///   does not fit `start`.
    public init(path: String, start: Start) throws {
        guard !path.isEmpty else {
            throw RunFolderError(path: path, message: "the path is empty; name a folder for the run's files")
        }
        self.path = path
        url = URL(fileURLWithPath: path)
        try Self.makeFolders(path)
        lockDescriptor = try Self.lock(folder: path)
        do {
            Self.removeStaleTemporaries(in: path)
            try checkStart(start)
        } catch {
            close(lockDescriptor)
            throw error
        }
    }

    deinit { close(lockDescriptor) }

    /// The run files present in the folder; an empty metrics log (a run killed before its first epoch was
    /// committed) does not count.
    public var existingRunFiles: [String] {
        Self.runFileNames.filter { name in
            let file = url.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: file) else { return false }
            if name == "metrics.jsonl" {
                return ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 1) > 0
            }
            return true
        }
    }

    private func checkStart(_ start: Start) throws {
        switch start {
        case .new:
            let present = existingRunFiles
            guard present.isEmpty else {
                throw RunFolderError(path: path, message: "already holds a run (\(present.joined(separator: ", "))); "
                    + "continue it with --resume \(path), or start over with --overwrite")
            }
        case .overwrite:
            for name in Self.runFileNames {
                let file = url.appendingPathComponent(name).path
                guard unlink(file) == 0 || errno == ENOENT else {
                    throw RunFolderError(path: path, message: "cannot remove the old run's \(name): \(Self.reason())")
                }
            }
        case .resume:
            guard FileManager.default.fileExists(atPath: checkpointURL.path) else {
                throw RunFolderError(path: path, message: "has no checkpoint.safetensors to resume from")
            }
        }
    }

    // MARK: Folder, lock and leftovers

    /// Creates `path` and its missing parents one component at a time, so that an error names the component in
    /// the way and why.
    private static func makeFolders(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            var status = stat()
            if stat(prefix, &status) == 0 {
                guard status.st_mode & S_IFMT == S_IFDIR else {
                    throw RunFolderError(path: path, message: "'\(prefix)' is a file, not a folder")
                }
                continue
            }
            if errno == ENAMETOOLONG || component.utf8.count > 255 {
                throw RunFolderError(path: path, message: "a folder name is too long (\(component.utf8.count) bytes; "
                    + "the file system allows 255)")
            }
            guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else {
                throw RunFolderError(path: path, message: "cannot create '\(prefix)': \(reason())")
            }
        }
        guard access(path, W_OK) == 0 else {
            throw RunFolderError(path: path, message: "cannot write into the folder: \(reason())")
        }
    }

    /// Takes the folder's exclusive lock, writing this process's id into the lock file.
    private static func lock(folder path: String) throws -> Int32 {
        let file = path + "/" + lockFileName
        let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RunFolderError(path: path, message: "cannot create the lock file \(lockFileName): \(reason())")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let why = reason()
            var holder = ""
            var bytes = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &bytes, bytes.count, 0)
            if n > 0, let text = String(bytes: bytes[..<n], encoding: .utf8)?
                .trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
                holder = " (process \(text))"
            }
            close(fd)
            throw RunFolderError(path: path, message: busy
                ? "another canopy run is writing this folder\(holder); wait for it to finish or choose another --out"
                : "cannot lock the folder: \(why)")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        return fd
    }

    /// Removes `.<name>.tmp-*` files a killed atomic write left behind. Only the lock holder may do this.
    private static func removeStaleTemporaries(in path: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
            unlink(path + "/" + name)
        }
    }

    static func reason() -> String { String(cString: strerror(errno)) }
}
