import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file opened for reading, with the problems of opening it described in words.
///
/// Model files, CSV data and safetensors checkpoints are read through this type, so that a missing file, a directory, a device
/// such as `/dev/null`, a pipe or an unreadable file all get a sentence of their own ("is a directory, not a CSV
/// file") instead of a generic Foundation error. The size comes from `fstat` on the open descriptor, so it is the
/// size of the file actually read. The descriptor is closed when the value is released.
public final class InputFile {
    /// What went wrong opening a file: a sentence without the file's name (callers wrap it into their own error
    /// type, which names the file).
    public struct Problem: Error, Equatable, CustomStringConvertible {
        /// For example "no such file" or "is a directory, not a CSV file".
        public var message: String
        /// The message.
        public var description: String { message }
    }

    /// The size of the file in bytes when it was opened.
    public let size: Int
    private let descriptor: Int32

    /// Opens `url` for reading and checks that it is a regular file.
    ///
    /// - Parameters:
    ///   - url: a file URL.
    ///   - kind: what the file should be, for messages: "a CSV file", "a safetensors file".
    /// - Throws: ``Problem`` for a URL that is not a file URL, a missing file, a directory, anything that is not a
    ///   regular file (device, pipe, socket), no permission to read, or any other `open`/`fstat` failure
    ///   (with `strerror`'s text).
    public init(_ url: URL, kind: String) throws {
        guard url.isFileURL else { throw Problem(message: "is not a local file (\(url.absoluteString))") }
        // O_NONBLOCK: opening a named pipe must not wait for a writer (regular files ignore the flag).
        let fd = open(url.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw Problem(message: "no such file")
            case EACCES: throw Problem(message: "permission denied: the file cannot be opened for reading")
            default: throw Problem(message: "cannot open the file: \(String(cString: strerror(code)))")
            }
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let code = errno
            close(fd)
            throw Problem(message: "cannot inspect the file: \(String(cString: strerror(code)))")
        }
        let type = status.st_mode & S_IFMT
        guard type == S_IFREG else {
            close(fd)
            throw Problem(message: "is \(Self.describe(fileType: type)), not \(kind)")
        }
        descriptor = fd
        size = Int(status.st_size)
    }

    deinit { close(descriptor) }

    /// Reads up to `count` bytes starting at byte `offset` into `buffer` (`pread(2)`, retried after
    /// interruptions and short reads); returns the number read, less than `count` only at the end of the file.
    ///
    /// - Throws: ``Problem`` with `strerror`'s text when `pread` fails.
    public func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws -> Int {
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Problem(message: "cannot read the file: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads exactly `count` bytes starting at byte `offset` into `buffer`.
    ///
    /// - Throws: ``Problem`` when `pread` fails or the file ends first (it shrank after it was opened).
    public func readExactly(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws {
        let done = try read(into: buffer, count: count, at: offset)
        guard done == count else {
            throw Problem(message: "the file ended at byte \(offset + done) while reading \(count) bytes at byte "
                              + "\(offset) (did it shrink while being read?)")
        }
    }

    /// "a directory", "a character device", … for an `st_mode & S_IFMT` value.
    private static func describe(fileType type: mode_t) -> String {
        switch type {
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a named pipe (FIFO)"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }
}


extension InputFile {
    /// The whole file, when it holds at most `limit` bytes.
    ///
    /// - Throws: ``Problem`` when it holds more (before reading any of it) or cannot be read.
    public func readAll(limit: Int) throws -> Data {
        guard size <= limit else { throw Problem(message: "is \(size) bytes, more than the limit of \(limit)") }
        var data = Data(count: size)
        try data.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { try readExactly(into: base, count: size, at: 0) }
        }
        return data
    }
}
