import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole regular file of bounded size, saying plainly what is wrong when it cannot: missing, a folder,
/// a device or pipe, not readable, too large. (Foundation's own messages, such as "You don't have permission"
/// for `/dev/null` as root or `NSCocoaErrorDomain error 256` for a folder, say neither.)
public enum RegularFile {
    /// Why a file could not be read.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        /// Nothing exists at the path.
        case missing
        /// The path is a folder.
        case directory
        /// The path is a device, pipe or socket.
        case notRegular
        /// The file holds more bytes than allowed.
        case tooLarge(Int)
        /// The system refused (`strerror` text).
        case system(String)

        public var description: String {
            switch self {
            case .missing: return "no such file"
            case .directory: return "it is a folder, not a file"
            case .notRegular: return "it is not a regular file (a device, pipe or socket)"
            case let .tooLarge(size): return "it is \(size) bytes, more than allowed"
            case let .system(reason): return reason
            }
        }
    }

    /// The file's bytes.
    ///
    /// - Parameter limit: the most bytes accepted; a larger file is refused before anything is read.
    /// - Throws: ``Failure``.
    public static func read(_ path: String, limit: Int) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw Failure.missing }
            throw Failure.system(String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw Failure.system(String(cString: strerror(errno))) }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw Failure.directory
        default: throw Failure.notRegular
        }
        let size = Int(status.st_size)
        guard size <= limit else { throw Failure.tooLarge(size) }
        var bytes = Data(count: size)
        var filled = 0
        try bytes.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            while filled < size {
                let n = Glibc.read(fd, buffer.baseAddress! + filled, size - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure.system(String(cString: strerror(errno)))
                }
                if n == 0 { break }   // the file shrank while being read
                filled += n
            }
        }
        return filled == size ? bytes : bytes.prefix(filled)
    }
}
