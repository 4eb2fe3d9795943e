import Foundation

extension SafeTensorsFile {
    /// Parses and checks the bytes of a safetensors file (see ``read(from:)`` for what is checked).
    ///
    /// Tensors come out in the order of their data offsets, which is the order Canopy wrote them in.
    ///
    /// - Parameter file: the name used in errors.
    public static func decode(_ bytes: [UInt8], file: String) throws -> SafeTensorsFile {
        var length: UInt64 = 0
        if bytes.count >= 8 {
            for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        }
        let headerEnd = try checkHeaderLength(length, fileSize: bytes.count, file: file)
        let layout = try Layout(header: bytes[8..<headerEnd], dataCount: bytes.count - headerEnd, file: file)
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        tensors.reserveCapacity(layout.entries.count)
        for entry in layout.entries {
            var values = [Float](repeating: 0, count: (entry.end - entry.begin) / 4)
            var p = headerEnd + entry.begin
            for i in values.indices {
                let bits = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16
                    | UInt32(bytes[p + 3]) << 24
                values[i] = Float(bitPattern: bits)
                p += 4
            }
            tensors.append((entry.name, entry.shape, values))
        }
        return SafeTensorsFile(tensors: tensors, metadata: layout.metadata)
    }

    /// Checks the header length read from the first 8 bytes against the file's size; returns where the header
    /// ends (8 + length).
    ///
    /// - Throws: ``CheckpointError`` for a file shorter than 8 bytes, or a length below 2, above
    ///   ``maximumHeaderLength`` or past the end of the file.
    static func checkHeaderLength(_ length: UInt64, fileSize: Int, file: String) throws -> Int {
        func fail(_ message: String) -> CheckpointError { CheckpointError(file: file, message: message) }
        guard fileSize >= 8 else {
            throw fail("is \(fileSize) bytes long; a safetensors file starts with an 8-byte header length")
        }
        guard length >= 2 else { throw fail("header length \(length) is too small for a JSON object") }
        guard length <= UInt64(maximumHeaderLength) else {
            throw fail("header length \(length) is above the limit of \(maximumHeaderLength) bytes (not a safetensors file?)")
        }
        guard length <= UInt64(fileSize - 8) else {
            throw fail("header length \(length) runs past the end of the file (\(fileSize) bytes): truncated?")
        }
        return 8 + Int(length)
    }

    /// A parsed and checked header: the metadata, and where each tensor's bytes lie in the data part.
    struct Layout {
        var metadata: [String: String] = [:]
        /// The tensors sorted by their data offsets, which tile `0..<dataCount` exactly.
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []

        /// Parses `header` (the JSON text) and checks it against a data part of `dataCount` bytes.
        ///
        /// - Throws: ``CheckpointError`` for a header that is not a UTF-8 JSON object of the expected form, a dtype
        ///   other than F32, offsets outside the data or not covering it exactly, or a shape that does not match
        ///   its byte count.
        init(header: ArraySlice<UInt8>, dataCount: Int, file: String) throws {
            func fail(_ message: String) -> CheckpointError { CheckpointError(file: file, message: message) }
            guard let headerText = String(validating: header, as: UTF8.self) else {
                throw fail("the header is not valid UTF-8")
            }
            guard headerText.first == "{" else { throw fail("the header does not start with '{'") }
            let json: Any
            do {
                json = try JSONSerialization.jsonObject(with: Data(headerText.utf8))
            } catch {
                throw fail("the header is not valid JSON: \(error.localizedDescription)")
            }
            guard let object = json as? [String: Any] else { throw fail("the header is not a JSON object") }

            for (name, value) in object {
                if name == "__metadata__" {
                    guard let pairs = value as? [String: Any] else { throw fail("__metadata__ is not a JSON object") }
                    for (key, item) in pairs {
                        guard let text = item as? String else { throw fail("__metadata__.\(key) is not a string") }
                        metadata[key] = text
                    }
                    continue
                }
                guard let entry = value as? [String: Any] else { throw fail("tensor '\(name)': entry is not a JSON object") }
                guard let dtype = entry["dtype"] as? String else { throw fail("tensor '\(name)': no dtype string") }
                guard dtype == "F32" else {
                    throw fail("tensor '\(name)': dtype \(dtype) is not supported (Canopy reads F32 only)")
                }
                guard let shapeArray = entry["shape"] as? [Any],
                      let shape = integers(shapeArray), shape.allSatisfy({ $0 >= 0 }) else {
                    throw fail("tensor '\(name)': shape is not a list of non-negative integers")
                }
                guard let offsetArray = entry["data_offsets"] as? [Any], let offsets = integers(offsetArray),
                      offsets.count == 2 else {
                    throw fail("tensor '\(name)': data_offsets is not a list of two integers")
                }
                let (begin, end) = (offsets[0], offsets[1])
                guard begin >= 0, begin <= end, end <= dataCount else {
                    throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] are outside the \(dataCount) data bytes")
                }
                let count = elementCount(shape)
                guard count >= 0, count <= Int.max / 4, count * 4 == end - begin else {
                    throw fail("tensor '\(name)': shape \(shape) needs \(count < 0 || count > Int.max / 4 ? "too many" : "\(count * 4)") bytes "
                                   + "but data_offsets [\(begin), \(end)] hold \(end - begin)")
                }
                entries.append((name, shape, begin, end))
            }

            // The tensors must tile the data exactly: no gap, no overlap, nothing after the last one.
            entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
            var position = 0
            for entry in entries {
                guard entry.begin == position else {
                    throw fail("tensor '\(entry.name)' starts at data byte \(entry.begin), expected \(position) "
                                   + "(tensors overlap or leave a gap)")
                }
                position = entry.end
            }
            guard position == dataCount else {
                throw fail("the tensors cover \(position) data bytes but the file holds \(dataCount)")
            }
        }
    }
}

/// The elements of a JSON array as integers, or `nil` if any is not an integer.
private func integers(_ array: [Any]) -> [Int]? {
    var result = [Int]()
    for item in array {
        if let n = item as? Int {
            result.append(n)
        } else if let d = item as? Double, d == d.rounded(), abs(d) < 9.0e15 {
            result.append(Int(d))
        } else {
            return nil
        }
    }
    return result
}
