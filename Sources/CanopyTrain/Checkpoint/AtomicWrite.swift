import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `bytes` to `url` so that readers only ever see the old file or the whole new one.
///
/// Steps: create `.<name>.tmp-<pid>-<n>` in the destination's directory (same file system, so the rename is
/// atomic), write every byte, `fsync` it, close it, then `rename(2)` it over the destination. On any failure the
/// temporary file is removed and a ``CheckpointError`` says which step failed and why (`strerror`).
func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
    try StagedFile(bytes, for: url).commit()
}

/// A file written in full to a temporary name beside its destination and flushed to disk, waiting to replace the
/// destination with one `rename(2)`.
///
/// Staging several files before committing any lets a writer replace them together: a full disk or any other
/// write error happens while staging, when every destination still holds its old contents, and a commit is only
/// renames, which need no space. A staged file that is never committed is removed when it is released.
final class StagedFile {
    /// The file it will replace.
    let destination: URL
    private let temporary: String
    private var committed = false

    /// Writes and flushes `bytes` to a temporary file beside `url`.
    ///
    /// - Parameter write: writes the bytes to the open file, returning false with `errno` set on an error
    ///   (``writeAll(_:to:)``; tests put a failing writer here to stand in for a full disk).
    /// - Throws: ``CheckpointError`` naming `url` and the step that failed (nothing is left behind then).
    init(_ bytes: [UInt8], for url: URL, write: ([UInt8], Int32) -> Bool = { writeAll($0, to: $1) }) throws {
        destination = url
        let directory = url.deletingLastPathComponent().path
        temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(temporaryCounter.next())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.failure(url, "create a temporary file in '\(directory)'") }
        var closed = false
        var written = false
        defer {
            if !closed { close(fd) }
            if !written { unlink(temporary) }
        }
        guard write(bytes, fd) else { throw Self.failure(url, "write the temporary file") }
        guard fsync(fd) == 0 else { throw Self.failure(url, "flush the temporary file to disk") }
        closed = true
        guard close(fd) == 0 else { throw Self.failure(url, "close the temporary file") }
        written = true
    }

    deinit { if !committed { unlink(temporary) } }

    /// Renames the temporary file over the destination.
    func commit() throws {
        guard rename(temporary, destination.path) == 0 else {
            throw Self.failure(destination, "rename the temporary file over the destination")
        }
        committed = true
    }

    private static func failure(_ url: URL, _ step: String) -> CheckpointError {
        CheckpointError(file: url.relativePath, message: "cannot \(step): \(String(cString: strerror(errno)))")
    }
}

/// Appends `bytes` to the end of the file open at `fd` as one record: when the write fails part-way (a full disk),
/// the file is cut back to where it was, so that it never ends in part of a record. Returns nil, or the system's
/// reason for the failure.
func appendWhole(_ bytes: [UInt8], to fd: Int32) -> String? {
    let start = lseek(fd, 0, SEEK_END)
    guard writeAll(bytes, to: fd) else {
        let reason = String(cString: strerror(errno))
        if start >= 0 { _ = ftruncate(fd, start) }
        return reason
    }
    return nil
}

/// Writes every byte to a file descriptor, retrying after interruptions and short writes. Returns false on an
/// error, with `errno` set.
func writeAll<Bytes: ContiguousBytes>(_ bytes: Bytes, to fd: Int32) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var written = 0
        while written < buffer.count {
            let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            written += n
        }
        return true
    }
}

/// Distinguishes temporary files written by one process at the same time from several threads.
private let temporaryCounter = AtomicCounter()

/// A counter that several threads may advance (temporary file names; tests count calls with it).
final class AtomicCounter: @unchecked Sendable {
    // Unchecked: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
