import CanopyModel
/// A streaming reader of comma-separated values as RFC 4180 defines them.
///
/// - Fields are separated by `,` and records by `\r\n`, `\n` or a lone `\r`.
/// - A field that starts with `"` is quoted: it may hold commas and line breaks, `""` stands for one `"`, and the
///   closing quote must be followed by `,`, a line break or the end of the file. A `"` inside an unquoted field
///   is an error.
/// - Empty lines are skipped. A UTF-8 byte order mark at the start is skipped. Every field must be valid UTF-8.
/// - Records are numbered by the physical line they start on, 1-based, so that errors point at the right line
///   even after a quoted field that spans lines.
/// - Limits, so that a damaged or foreign file is refused after reading only a bounded amount: a field holds at
///   most ``maximumFieldLength`` bytes, a record at most ``maximumRecordLength`` bytes (its fields and the commas
///   between them) and at most ``maximumFieldCount`` fields.
///
/// The file is read in chunks of `chunkSize` bytes; the reader holds one chunk and the current record (its bytes
/// and where each field ends), never the whole file. The reader does not know what the fields mean:
/// ``CSVDataset`` turns records into a ``Dataset``.
struct CSVReader {
    /// The most bytes one field may hold: 1 MiB.
    static let maximumFieldLength = 1 << 20
    /// The most bytes one record may hold, its fields and the commas between them: 64 MiB.
    static let maximumRecordLength = 64 << 20
    /// The most fields one record may have: 1,048,576.
    static let maximumFieldCount = 1 << 20

    /// The name used in errors (a path).
    let file: String
    private var stream: ByteStream
    private var line = 1
    /// The current record's field bytes, back to back, and the end offset of each field.
    private var record: [UInt8] = []
    private var fieldEnds: [Int] = []

    /// A reader of `input` from its start, naming `file` in errors.
    init(_ input: InputFile, file: String, chunkSize: Int = 1 << 20) throws {
        self.file = file
        var start = 0
        if input.size >= 3 {
            var head: (UInt8, UInt8, UInt8) = (0, 0, 0)
            let count: Int
            do {
                count = try withUnsafeMutableBytes(of: &head) { try input.read(into: $0.baseAddress!, count: 3, at: 0) }
            } catch let problem as InputFile.Problem {
                throw DataError(file: file, message: problem.message)
            }
            if count == 3, head == (0xEF, 0xBB, 0xBF) { start = 3 }
        }
        stream = ByteStream(input, from: start, chunkSize: chunkSize)
    }

    private static let comma: UInt8 = 0x2C, quote: UInt8 = 0x22, cr: UInt8 = 0x0D, lf: UInt8 = 0x0A

    /// Calls `body` with each record, in file order.
    ///
    /// The record's fields are valid only during the call.
    ///
    /// - Throws: ``DataError`` for an unterminated quote, a stray quote, a field that is not valid UTF-8 or a record
    ///   beyond the limits; and whatever `body` throws.
    mutating func forEachRecord(_ body: (_ record: CSVRecord) throws -> Void) throws {
        do {
            while let recordLine = try nextRecord(storing: true) {
                try record.withUnsafeBufferPointer { bytes in
                    try fieldEnds.withUnsafeBufferPointer { ends in
                        try body(CSVRecord(line: recordLine, bytes: bytes, ends: ends))
                    }
                }
            }
        } catch let limit as LimitExceeded {
            throw limit.error
        } catch let problem as InputFile.Problem {
            throw DataError(file: file, message: problem.message)
        }
    }

    /// Counts the records from here to the end of the file without keeping them, to size arrays before a second
    /// reading.
    ///
    /// Only the limits are errors here; at any other syntax error counting stops and returns the records before
    /// it (the second reading reports the error, after any error in the rows before it).
    ///
    /// - Throws: ``DataError`` for a field or record beyond the limits, or when the file cannot be read.
    mutating func countRecords() throws -> Int {
        var count = 0
        do {
            while try nextRecord(storing: false) != nil { count += 1 }
        } catch let limit as LimitExceeded {
            throw limit.error
        } catch let problem as InputFile.Problem {
            throw DataError(file: file, message: problem.message)
        } catch {
            return count
        }
        return count
    }

    /// Reads the next record into `record` and `fieldEnds` (when `storing`) and returns the line it starts on, or
    /// `nil` at the end of the file.
    private mutating func nextRecord(storing: Bool) throws -> Int? {
        // Empty lines are not records.
        while let b = try stream.peek(), b == Self.lf || b == Self.cr {
            try skipLineBreak()
        }
        guard try stream.peek() != nil else { return nil }
        let recordLine = line
        record.removeAll(keepingCapacity: true)
        fieldEnds.removeAll(keepingCapacity: true)
        var fieldCount = 0, recordLength = 0
        while true {
            let fieldStart = record.count
            let length: Int
            if try stream.peek() == Self.quote {
                stream.advance()
                length = try readQuoted(storing: storing, recordLine: recordLine, fieldNumber: fieldCount + 1)
            } else {
                length = try readUnquoted(storing: storing, recordLine: recordLine, fieldNumber: fieldCount + 1)
            }
            fieldCount += 1
            recordLength += length + (fieldCount > 1 ? 1 : 0)
            if fieldCount > Self.maximumFieldCount {
                throw LimitExceeded(error: DataError(file: file, line: recordLine, message: "the record has more "
                                    + "than the limit of \(Self.maximumFieldCount) fields (is this a CSV file?)"))
            }
            if recordLength > Self.maximumRecordLength {
                throw LimitExceeded(error: DataError(file: file, line: recordLine, message: "the record is longer "
                                    + "than the limit of \(Self.maximumRecordLength >> 20) MiB (\(Self.maximumRecordLength) bytes)"))
            }
            if storing {
                if !isValidUTF8(record[fieldStart...]) {
                    throw DataError(file: file, line: recordLine,
                                    message: "field \(fieldCount) is not valid UTF-8 (save the file as UTF-8)")
                }
                fieldEnds.append(record.count)
            }
            guard let next = try stream.peek() else { return recordLine }
            if next == Self.comma {
                stream.advance()
            } else {
                try skipLineBreak()
                return recordLine
            }
        }
    }

    /// Reads an unquoted field up to `,`, a line break or the end of the file; returns its length.
    private mutating func readUnquoted(storing: Bool, recordLine: Int, fieldNumber: Int) throws -> Int {
        var length = 0
        while true {
            let run = try stream.run(stoppingAt: Self.comma, Self.quote, Self.cr, Self.lf)
            if run.isEmpty { break }
            length += run.count
            try checkFieldLength(length, recordLine: recordLine, fieldNumber: fieldNumber, quoted: false)
            if storing { record.append(contentsOf: run) }
        }
        if try stream.peek() == Self.quote {
            throw DataError(file: file, line: line, column: nil,
                            message: "field \(fieldNumber) has a '\"' inside an unquoted field; "
                                + "quote the whole field and double the quote (\"\")")
        }
        return length
    }

    /// Reads a quoted field whose opening quote has been read, up to and including its closing quote; returns the
    /// length of its contents.
    private mutating func readQuoted(storing: Bool, recordLine: Int, fieldNumber: Int) throws -> Int {
        var length = 0
        while true {
            let run = try stream.run(stoppingAt: Self.quote, Self.cr, Self.lf, Self.quote)
            if !run.isEmpty {
                length += run.count
                try checkFieldLength(length, recordLine: recordLine, fieldNumber: fieldNumber, quoted: true)
                if storing { record.append(contentsOf: run) }
                continue
            }
            guard let b = try stream.peek() else {
                throw DataError(file: file, line: recordLine, message: "a quoted field is never closed (missing '\"')")
            }
            stream.advance()
            if b == Self.quote {
                let after = try stream.peek()
                if after == Self.quote {
                    stream.advance()
                } else if let after, after != Self.comma, after != Self.lf, after != Self.cr {
                    throw DataError(file: file, line: line,
                                    message: "a closing quote must be followed by ',' or the end of the line")
                } else {
                    return length
                }
            } else if b == Self.lf {
                line += 1
            } else if b == Self.cr, try stream.peek() != Self.lf {
                line += 1
            }
            length += 1
            try checkFieldLength(length, recordLine: recordLine, fieldNumber: fieldNumber, quoted: true)
            if storing { record.append(b) }
        }
    }

    private func checkFieldLength(_ length: Int, recordLine: Int, fieldNumber: Int, quoted: Bool) throws {
        guard length > Self.maximumFieldLength else { return }
        throw LimitExceeded(error: DataError(file: file, line: recordLine, message: "field \(fieldNumber) is longer "
                            + "than the limit of \(Self.maximumFieldLength >> 20) MiB (\(Self.maximumFieldLength) bytes)"
                            + (quoted ? "; is a closing quote '\"' missing?" : "")))
    }

    /// Consumes the line break (`\r\n`, `\n` or `\r`) at the current position and counts the line.
    private mutating func skipLineBreak() throws {
        let b = try stream.peek()
        stream.advance()
        if b == Self.cr, try stream.peek() == Self.lf { stream.advance() }
        line += 1
    }
}

/// A field or record beyond ``CSVReader``'s limits: an error even while only counting records.
private struct LimitExceeded: Error {
    let error: DataError
}

/// One record of a ``CSVReader``: its fields' bytes, valid only while the reader's callback runs.
struct CSVRecord {
    /// The line the record starts on (1-based).
    let line: Int
    fileprivate let bytes: UnsafeBufferPointer<UInt8>
    fileprivate let ends: UnsafeBufferPointer<Int>

    /// The number of fields.
    var count: Int { ends.count }

    /// The bytes of field `i` (0-based), valid UTF-8, without quotes and with `""` already turned into `"`.
    subscript(i: Int) -> UnsafeBufferPointer<UInt8> {
        let start = i == 0 ? 0 : ends[i - 1]
        return UnsafeBufferPointer(rebasing: bytes[start..<ends[i]])
    }

    /// Field `i` as a string.
    func string(_ i: Int) -> String { String(decoding: self[i], as: UTF8.self) }

    /// Every field as a string.
    var strings: [String] { (0..<count).map(string) }
}

/// Whether `bytes` are valid UTF-8 (ASCII quickly, anything else through the standard library's validation).
private func isValidUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
    if bytes.allSatisfy({ $0 < 0x80 }) { return true }
    return String(validating: bytes, as: UTF8.self) != nil
}

/// The bytes of a file, read in chunks and consumed front to back.
private struct ByteStream {
    private let input: InputFile
    private let chunk: ChunkBuffer
    /// The file offset of the first byte of the chunk; valid bytes are `chunk[position..<end]`.
    private var chunkOffset: Int
    private var position = 0, end = 0

    init(_ input: InputFile, from offset: Int, chunkSize: Int) {
        self.input = input
        chunk = ChunkBuffer(capacity: max(chunkSize, 1))
        chunkOffset = offset
    }

    /// The next byte, or `nil` at the end of the file.
    @inline(__always)
    mutating func peek() throws -> UInt8? {
        if position < end { return chunk.pointer[position] }
        return try refill() ? chunk.pointer[position] : nil
    }

    /// Consumes the byte `peek()` returned.
    @inline(__always)
    mutating func advance() { position += 1 }

    /// Consumes and returns the bytes before the first of the four stop bytes or the end of the buffered chunk.
    /// Empty only when the next byte is a stop byte or the file has ended.
    mutating func run(stoppingAt a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) throws -> UnsafeBufferPointer<UInt8> {
        if position == end, try !refill() { return UnsafeBufferPointer(start: chunk.pointer, count: 0) }
        let p = chunk.pointer
        let start = position
        var i = start
        while i < end {
            let x = p[i]
            if x == a || x == b || x == c || x == d { break }
            i += 1
        }
        position = i
        return UnsafeBufferPointer(start: p + start, count: i - start)
    }

    /// Reads the next chunk; false at the end of the file.
    private mutating func refill() throws -> Bool {
        chunkOffset += end
        position = 0
        end = 0
        let count = try input.read(into: chunk.pointer, count: chunk.capacity, at: chunkOffset)
        end = count
        return count > 0
    }
}

/// A buffer of bytes freed with its owner.
private final class ChunkBuffer {
    let pointer: UnsafeMutablePointer<UInt8>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        pointer = .allocate(capacity: capacity)
    }

    deinit { pointer.deallocate() }
}
