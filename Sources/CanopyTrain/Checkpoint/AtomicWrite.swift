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
    let file = url.relativePath
    let directory = url.deletingLastPathComponent().path
    let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(temporaryCounter.next())"
    func failure(_ step: String) -> CheckpointError {
        CheckpointError(file: file, message: "cannot \(step): \(String(cString: strerror(errno)))")
    }

    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw failure("create a temporary file in '\(directory)'") }
    var closed = false
    var renamed = false
    defer {
        if !closed { close(fd) }
        if !renamed { unlink(temporary) }
    }
    guard writeAll(bytes, to: fd) else { throw failure("write the temporary file") }
    guard fsync(fd) == 0 else { throw failure("flush the temporary file to disk") }
    closed = true
    guard close(fd) == 0 else { throw failure("close the temporary file") }
    guard rename(temporary, url.path) == 0 else { throw failure("rename the temporary file over the destination") }
    renamed = true
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

private final class AtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
