import CanopyModel
import Foundation

/// An error reading or writing a checkpoint, naming the file.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file concerned (a path).
    public var file: String
    /// What is wrong.
    public var message: String

    /// Creates an error about `file`.
    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}

/// Named float32 tensors and string metadata in the safetensors format, which PyTorch, JAX and MLX read.
///
/// The file layout (https://github.com/huggingface/safetensors):
/// ```
/// [8 bytes]  N, the header length, unsigned little-endian
/// [N bytes]  JSON: {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, …,
///                   "__metadata__": {"key": "value"}}   padded with spaces so that 8 + N is a multiple of 8
/// [rest]     the tensors' raw little-endian bytes; data_offsets are relative to the start of this part
/// ```
/// Canopy writes the tensors in order, back to back, and the header keys in the same order. Only `F32` is
/// supported. ``read(from:)`` checks everything a damaged or foreign file could get wrong and throws a
/// ``CheckpointError`` saying what.
public struct SafeTensorsFile: Sendable {
    /// The tensors, in file order. A shape of `[]` is a scalar (one value).
    public var tensors: [(name: String, shape: [Int], values: [Float])]
    /// Free-form string pairs stored under `__metadata__` (Canopy puts its step, model name, … here).
    public var metadata: [String: String]

    /// The largest header read, 100 MB, as the reference implementation allows.
    public static let maximumHeaderLength = 100_000_000

    /// Makes a file's contents; nothing is checked until ``encoded()`` or ``write(to:)``.
    public init(tensors: [(name: String, shape: [Int], values: [Float])] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor with this name, if there is one.
    public func tensor(named name: String) -> (shape: [Int], values: [Float])? {
        tensors.first { $0.name == name }.map { ($0.shape, $0.values) }
    }

    // MARK: Writing

    /// The whole file as bytes.
    ///
    /// - Parameter file: the name used in errors.
    /// - Throws: ``CheckpointError`` for an empty, repeated or reserved (`__metadata__`) tensor name, a negative
    ///   dimension, or a shape whose element count is not the number of values.
    public func encoded(file: String = "safetensors") throws -> [UInt8] {
        var header = "{"
        var offset = 0
        var seen = Set<String>()
        for (k, tensor) in tensors.enumerated() {
            guard !tensor.name.isEmpty, tensor.name != "__metadata__" else {
                throw CheckpointError(file: file, message: "tensor \(k) has the reserved or empty name '\(tensor.name)'")
            }
            guard seen.insert(tensor.name).inserted else {
                throw CheckpointError(file: file, message: "tensor name '\(tensor.name)' is used twice")
            }
            guard tensor.shape.allSatisfy({ $0 >= 0 }), elementCount(tensor.shape) == tensor.values.count else {
                throw CheckpointError(file: file, message: "tensor '\(tensor.name)' has shape \(tensor.shape) "
                                          + "but \(tensor.values.count) values")
            }
            let end = offset + 4 * tensor.values.count
            if k > 0 { header += "," }
            header += "\(jsonString(tensor.name)):{\"dtype\":\"F32\",\"shape\":["
                + tensor.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        if !metadata.isEmpty {
            if !tensors.isEmpty { header += "," }
            header += "\"__metadata__\":{"
                + metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
                    .joined(separator: ",") + "}"
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: headerBytes)
        for tensor in tensors {
            // A [Float]'s memory is the file's little-endian float32 on little-endian machines: one copy.
            #if _endian(little)
            tensor.values.withUnsafeBytes { bytes.append(contentsOf: $0) }
            #else
            for value in tensor.values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            }
            #endif
        }
        return bytes
    }

    /// Writes the file atomically: to a temporary file in the same directory, flushed to disk, then renamed over
    /// `url`. A crash or error leaves either the old file or the new one, never half a file.
    ///
    /// - Throws: ``CheckpointError`` for invalid contents (see ``encoded(file:)``) or when the file cannot be
    ///   written (missing directory, no permission, disk full).
    public func write(to url: URL) throws {
        let file = url.relativePath
        let bytes = try encoded(file: file)
        try writeAtomically(bytes, to: url)
    }

    // MARK: Reading

    /// Reads and checks a safetensors file.
    ///
    /// The 8-byte header length and the header are read and checked against the file's size first; only then is
    /// each tensor read, straight into its array. Peak memory is the tensors' values plus the header: a file
    /// whose header is damaged is refused after reading at most the header.
    ///
    /// - Throws: ``CheckpointError`` when the file is missing, unreadable, a directory or not a regular file
    ///   (such as `/dev/null`), or is not a valid F32 safetensors file: too short, a header length outside the
    ///   file or above ``maximumHeaderLength``, a header that is not a UTF-8 JSON object of the expected form, a
    ///   dtype other than F32, offsets outside the data or not covering it exactly, or a shape that does not match
    ///   its byte count.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        let file = url.relativePath
        do {
            let input = try InputFile(url, kind: "a safetensors file")
            return try parse(size: input.size, file: file) { try input.readExactly(into: $0, count: $1, at: $2) }
        } catch let problem as InputFile.Problem {
            throw CheckpointError(file: file, message: problem.message)
        }
    }

    /// Decodes what ``encoded(file:)`` made (a file's whole contents), checked as ``read(from:)`` checks a file;
    /// `file` names the bytes in errors.
    public static func decoded(_ bytes: [UInt8], file: String) throws -> SafeTensorsFile {
        try bytes.withUnsafeBytes { source in
            try parse(size: source.count, file: file) { destination, count, offset in
                guard offset >= 0, count >= 0, offset + count <= source.count else {
                    throw CheckpointError(file: file, message: "\(count) bytes at \(offset) lie outside its \(source.count)")
                }
                if count > 0 { destination.copyMemory(from: source.baseAddress! + offset, byteCount: count) }
            }
        }
    }

    /// Parses a safetensors file of `size` bytes that `read(destination, count, offset)` reads from.
    private static func parse(size: Int, file: String,
                              read: (UnsafeMutableRawPointer, Int, Int) throws -> Void) throws -> SafeTensorsFile {
        var length: UInt64 = 0
        if size >= 8 {
            try withUnsafeMutableBytes(of: &length) { try read($0.baseAddress!, 8, 0) }
            length = UInt64(littleEndian: length)
        }
        let headerEnd = try checkHeaderLength(length, fileSize: size, file: file)
        var header = [UInt8](repeating: 0, count: headerEnd - 8)
        try header.withUnsafeMutableBytes { try read($0.baseAddress!, $0.count, 8) }
        let layout = try Layout(header: header[...], dataCount: size - headerEnd, file: file)
        header = []

        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        tensors.reserveCapacity(layout.entries.count)
        for entry in layout.entries {
            let count = (entry.end - entry.begin) / 4
            // The file's values are little-endian float32, the layout of a [Float] on little-endian machines.
            let raw = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                initialized = 0
                if count > 0 { try read(buffer.baseAddress!, 4 * count, headerEnd + entry.begin) }
                initialized = count
            }
            #if _endian(big)
            let values = raw.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            #else
            let values = raw
            #endif
            tensors.append((entry.name, entry.shape, values))
        }
        return SafeTensorsFile(tensors: tensors, metadata: layout.metadata)
    }
}

/// The number of elements of a shape: the product of its dimensions (1 for a scalar `[]`), or -1 on overflow.
func elementCount(_ shape: [Int]) -> Int {
    var count = 1
    for d in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: d)
        if overflow { return -1 }
        count = product
    }
    return count
}
