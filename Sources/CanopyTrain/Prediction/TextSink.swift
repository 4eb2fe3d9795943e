import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where streamed text goes: a file written atomically, or standard output.
///
/// Text is buffered (64 KiB) and written as it comes, so output of any length never sits whole in memory.
/// A file sink writes to `.<name>.tmp-<pid>-<n>` beside the destination and only ``finish()`` moves it into place
/// (flushed to disk, then renamed): a failure part-way, or a sink dropped without ``finish()``, removes the
/// temporary file and leaves any old file untouched.
public final class TextSink {
    private enum Target { case file(fd: Int32, temporary: String, destination: URL), standardOutput }
    private var target: Target?
    private var buffer: [UInt8] = []
    private let name: String
    private static let capacity = 1 << 16

    /// A sink that writes `url` atomically.
    ///
    /// - Throws: ``PredictionError`` naming the file when the temporary file cannot be created (missing directory,
    ///   no permission).
    public init(file url: URL) throws {
        name = url.relativePath
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(TextSink.nextSerial())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PredictionError(file: name, message: "cannot create a temporary file in '\(directory)': "
                + String(cString: strerror(errno)))
        }
        target = .file(fd: fd, temporary: temporary, destination: url)
        buffer.reserveCapacity(Self.capacity)
    }

    /// A sink that writes to standard output.
    public init() {
        name = "standard output"
        target = .standardOutput
        buffer.reserveCapacity(Self.capacity)
    }

    deinit { discard() }

    /// Appends text (written out whenever the buffer fills).
    public func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.capacity { try flush() }
    }

    /// Writes what is buffered and, for a file, flushes it to disk and renames it over the destination.
    public func finish() throws {
        try flush()
        guard let target else { return }
        switch target {
        case .standardOutput:
            fflush(nil)         // every C stream, standard output among them (Swift 6 forbids naming `stdout`)
            self.target = nil
        case let .file(fd, temporary, destination):
            guard fsync(fd) == 0 else { throw failure("flush the temporary file to disk") }
            self.target = nil
            let closed = close(fd) == 0
            guard closed, rename(temporary, destination.path) == 0 else {
                let error = failure(closed ? "rename the temporary file over the destination" : "close the temporary file")
                unlink(temporary)
                throw error
            }
        }
    }

    /// Abandons the output: a file sink removes its temporary file. Does nothing after ``finish()``.
    public func discard() {
        if case let .file(fd, temporary, _)? = target {
            close(fd)
            unlink(temporary)
        }
        target = nil
    }

    private func flush() throws {
        guard !buffer.isEmpty, let target else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        let fd: Int32
        switch target {
        case .standardOutput: fflush(nil); fd = STDOUT_FILENO   // what print() buffered goes first
        case let .file(descriptor, _, _): fd = descriptor
        }
        guard writeAll(buffer, to: fd) else { throw failure("write") }
    }

    private func failure(_ step: String) -> PredictionError {
        PredictionError(file: name, message: "cannot \(step): \(String(cString: strerror(errno)))")
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var serial = 0
    private static func nextSerial() -> Int {
        lock.lock()
        defer { lock.unlock() }
        serial += 1
        return serial
    }
}

/// An error writing predictions, naming the output.
public struct PredictionError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The output concerned (a path, or `standard output`).
    public var file: String
    /// What is wrong.
    public var message: String

    /// Creates an error about the output `file`.
    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
