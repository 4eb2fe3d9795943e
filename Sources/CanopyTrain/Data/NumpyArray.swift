import CanopyModel
import Foundation

/// An array read from a NumPy `.npy` file, as float32 values in C (row-major) order.
///
/// The format (numpy.lib.format, versions 1.0, 2.0 and 3.0): the magic `\x93NUMPY`, a major and minor version
/// byte, the header's length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), then the header — a Python
/// dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (1500, 3, 32, 32), }` padded with
/// spaces and ending in `\n` — then the raw values.
///
/// Types read: floats `f4`, `f8`; signed integers `i1`, `i2`, `i4`, `i8`; unsigned `u1`, `u2`, `u4`, `u8`; booleans
/// `b1`; little-endian (`<`), big-endian (`>`), native (`=`, little-endian on every platform Canopy runs on) or
/// not applicable (`|`). Every value becomes a `Float` (integers above 2²⁴ are rounded). Fortran-order arrays,
/// structured dtypes and object arrays are refused. The data must fill the rest of the file exactly.
///
/// The file is read through ``InputFile`` in 1 MiB chunks; nothing is allocated from a header's claims before the
/// claim is checked against the file's size.
public struct NumpyArray: Equatable, Sendable {
    /// The array's shape, as the header gives it (`[]` for a scalar).
    public var shape: [Int]
    /// The `descr` the header gives, such as `<f4`.
    public var descr: String
    /// The values in C order, `shape.reduce(1, *)` of them.
    public var values: [Float]

    /// The largest header accepted: 1 MiB (NumPy writes under 100 bytes for ordinary arrays).
    static let maximumHeaderLength = 1 << 20

    /// Reads the `.npy` file at `url`.
    ///
    /// - Throws: ``DataError`` naming the file for a missing or unreadable file, a bad magic string, an unknown
    ///   version, a header that is not the dict NumPy writes (saying what was expected where), an unsupported
    ///   dtype, Fortran order, a shape whose size overflows, or data shorter or longer than the shape needs.
    public static func read(url: URL) throws -> NumpyArray {
        let file = url.relativePath
        func fail(_ message: String) -> DataError { DataError(file: file, message: message) }
        let input: InputFile
        do { input = try InputFile(url, kind: "a .npy file") } catch let problem as InputFile.Problem {
            throw fail(problem.message)
        }
        do {
            var prefix = [UInt8](repeating: 0, count: 12)
            let got = try input.read(into: &prefix, count: 12, at: 0)
            guard got >= 10, prefix[0..<6].elementsEqual([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) else {
                throw fail("not a NumPy .npy file (it does not start with \\x93NUMPY)")
            }
            let major = prefix[6]
            let headerLength: Int, headerStart: Int
            switch major {
            case 1:
                headerLength = Int(prefix[8]) | Int(prefix[9]) << 8
                headerStart = 10
            case 2, 3:
                guard got >= 12 else { throw fail("the file ends inside the .npy preamble") }
                headerLength = Int(prefix[8]) | Int(prefix[9]) << 8 | Int(prefix[10]) << 16 | Int(prefix[11]) << 24
                headerStart = 12
            default:
                throw fail("unknown .npy format version \(major).\(prefix[7]) (Canopy reads 1.0, 2.0 and 3.0)")
            }
            guard headerLength <= maximumHeaderLength, headerStart + headerLength <= input.size else {
                throw fail("the .npy header claims \(headerLength) bytes, more than the file "
                               + (headerLength > maximumHeaderLength ? "header limit of \(maximumHeaderLength)" : "holds"))
            }
            var headerBytes = [UInt8](repeating: 0, count: headerLength)
            try input.readExactly(into: &headerBytes, count: headerLength, at: headerStart)
            let header = try NumpyHeader(parsing: headerBytes, file: file)
            let dataStart = headerStart + headerLength
            let (byteCount, overflow) = header.count.multipliedReportingOverflow(by: header.type.size)
            let available = input.size - dataStart
            guard !overflow, byteCount == available else {
                let need = overflow ? "more than \(Int.max)" : "\(byteCount)"
                throw fail("shape \(header.shape) of \(header.descr) needs \(need) bytes of data but the file has "
                               + "\(available)" + (!overflow && byteCount > available ? " (is it truncated?)" : ""))
            }
            var values = [Float](repeating: 0, count: header.count)
            let size = header.type.size
            let chunkItems = max(1, (1 << 20) / size)
            var chunk = [UInt8](repeating: 0, count: chunkItems * size)
            var done = 0
            while done < header.count {
                let n = min(chunkItems, header.count - done)
                try input.readExactly(into: &chunk, count: n * size, at: dataStart + done * size)
                chunk.withUnsafeBytes { bytes in
                    values.withUnsafeMutableBufferPointer { out in
                        for i in 0..<n { out[done + i] = header.type.value(in: bytes, at: i * size) }
                    }
                }
                done += n
            }
            return NumpyArray(shape: header.shape, descr: header.descr, values: values)
        } catch let problem as InputFile.Problem {
            throw fail(problem.message)
        }
    }
}

/// The element type of an array: kind, size in bytes and byte order.
struct NumpyElementType: Equatable {
    enum Kind: Equatable { case float, signed, unsigned, bool }
    let kind: Kind
    let size: Int
    let bigEndian: Bool

    /// Parses a `descr` such as `<f4`, `|u1` or `>i8`; nil for anything else.
    init?(descr: String) {
        let bytes = Array(descr.utf8)
        guard bytes.count == 3 else { return nil }
        switch bytes[0] {
        case UInt8(ascii: "<"), UInt8(ascii: "|"), UInt8(ascii: "="): bigEndian = false
        case UInt8(ascii: ">"): bigEndian = true
        default: return nil
        }
        guard let size = Int(String(UnicodeScalar(bytes[2]))) else { return nil }
        switch (bytes[1], size) {
        case (UInt8(ascii: "f"), 4), (UInt8(ascii: "f"), 8): kind = .float
        case (UInt8(ascii: "i"), 1), (UInt8(ascii: "i"), 2), (UInt8(ascii: "i"), 4), (UInt8(ascii: "i"), 8): kind = .signed
        case (UInt8(ascii: "u"), 1), (UInt8(ascii: "u"), 2), (UInt8(ascii: "u"), 4), (UInt8(ascii: "u"), 8): kind = .unsigned
        case (UInt8(ascii: "b"), 1): kind = .bool
        default: return nil
        }
        self.size = size
    }

    /// The element at byte `offset` of `bytes`, as a Float.
    func value(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Float {
        var raw: UInt64 = 0
        for k in 0..<size {
            let byte = UInt64(bytes[offset + (bigEndian ? size - 1 - k : k)])
            raw |= byte << (8 * UInt64(k))
        }
        switch kind {
        case .bool: return raw == 0 ? 0 : 1
        case .unsigned: return Float(raw)
        case .signed:
            let shift = UInt64(64 - 8 * size)
            return Float(Int64(bitPattern: raw << shift) >> Int64(shift))
        case .float:
            return size == 4 ? Float(bitPattern: UInt32(truncatingIfNeeded: raw)) : Float(Double(bitPattern: raw))
        }
    }
}
