import Foundation

/// A reader of comma-separated values as RFC 4180 defines them, over the bytes of a whole file.
///
/// - Fields are separated by `,` and records by `\r\n`, `\n` or a lone `\r`.
/// - A field that starts with `"` is quoted: it may hold commas and line breaks, `""` stands for one `"`, and the
///   closing quote must be followed by `,`, a line break or the end of the file. A `"` inside an unquoted field
///   is an error.
/// - Empty lines are skipped. A UTF-8 byte order mark at the start is skipped. Every field must be valid UTF-8.
/// - Records are numbered by the physical line they start on, 1-based, so that errors point at the right line
///   even after a quoted field that spans lines.
///
/// The reader does not know what the fields mean: ``CSVDataset`` turns records into a ``Dataset``.
struct CSVReader {
    /// The name used in errors (a path).
    let file: String
    private let bytes: [UInt8]

    init(bytes: [UInt8], file: String) {
        self.file = file
        self.bytes = bytes
    }

    private static let comma: UInt8 = 0x2C, quote: UInt8 = 0x22, cr: UInt8 = 0x0D, lf: UInt8 = 0x0A

    /// Calls `body` with each record's fields and the line the record starts on, in file order.
    ///
    /// - Throws: ``DataError`` for an unterminated quote, a stray quote, or a field that is not valid UTF-8;
    ///   and whatever `body` throws.
    func forEachRecord(_ body: (_ fields: [String], _ line: Int) throws -> Void) throws {
        var index = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        var line = 1
        var fields: [String] = []
        var field: [UInt8] = []

        while index < bytes.count {
            let recordLine = line
            // An empty line is not a record.
            if bytes[index] == Self.lf || bytes[index] == Self.cr {
                index = skipLineBreak(at: index)
                line += 1
                continue
            }
            fields.removeAll(keepingCapacity: true)
            var endOfRecord = false
            while !endOfRecord {
                field.removeAll(keepingCapacity: true)
                if index < bytes.count, bytes[index] == Self.quote {
                    index = try readQuoted(from: index + 1, into: &field, line: &line, recordLine: recordLine)
                } else {
                    while index < bytes.count {
                        let b = bytes[index]
                        if b == Self.comma || b == Self.lf || b == Self.cr { break }
                        if b == Self.quote {
                            throw DataError(file: file, line: line, column: nil,
                                            message: "field \(fields.count + 1) has a '\"' inside an unquoted field; "
                                                + "quote the whole field and double the quote (\"\")")
                        }
                        field.append(b)
                        index += 1
                    }
                }
                fields.append(try decode(field, line: recordLine, fieldNumber: fields.count + 1))
                if index >= bytes.count {
                    endOfRecord = true
                } else if bytes[index] == Self.comma {
                    index += 1
                } else {
                    index = skipLineBreak(at: index)
                    line += 1
                    endOfRecord = true
                }
            }
            try body(fields, recordLine)
        }
    }

    /// Reads a quoted field whose opening quote is just before `start`; returns the index after the closing quote.
    private func readQuoted(from start: Int, into field: inout [UInt8], line: inout Int, recordLine: Int) throws -> Int {
        var index = start
        while index < bytes.count {
            let b = bytes[index]
            if b == Self.quote {
                if index + 1 < bytes.count, bytes[index + 1] == Self.quote {
                    field.append(Self.quote)
                    index += 2
                    continue
                }
                let after = index + 1
                if after < bytes.count, ![Self.comma, Self.lf, Self.cr].contains(bytes[after]) {
                    throw DataError(file: file, line: line,
                                    message: "a closing quote must be followed by ',' or the end of the line")
                }
                return after
            }
            if b == Self.lf || (b == Self.cr && !(index + 1 < bytes.count && bytes[index + 1] == Self.lf)) {
                line += 1
            }
            field.append(b)
            index += 1
        }
        throw DataError(file: file, line: recordLine, message: "a quoted field is never closed (missing '\"')")
    }

    /// Returns the index after the line break (`\r\n`, `\n` or `\r`) at `index`.
    private func skipLineBreak(at index: Int) -> Int {
        if bytes[index] == Self.cr, index + 1 < bytes.count, bytes[index + 1] == Self.lf { return index + 2 }
        return index + 1
    }

    private func decode(_ field: [UInt8], line: Int, fieldNumber: Int) throws -> String {
        guard let text = String(validating: field, as: UTF8.self) else {
            throw DataError(file: file, line: line,
                            message: "field \(fieldNumber) is not valid UTF-8 (save the file as UTF-8)")
        }
        return text
    }
}

/// Parses a numeric cell: surrounding spaces and tabs are ignored; the number must be finite.
///
/// Returns `nil` for an empty (or blank) cell. Throws for text that is not a finite number.
func parseNumericCell(_ text: String, file: String, line: Int, column: String) throws -> Float? {
    let trimmed = trimmingSpacesAndTabs(text)
    if trimmed.isEmpty { return nil }
    guard let value = Float(trimmed) else {
        throw DataError(file: file, line: line, column: column, message: "'\(text)' is not a number")
    }
    guard value.isFinite else {
        throw DataError(file: file, line: line, column: column, message: "'\(text)' is not a finite number")
    }
    return value
}

/// `text` without leading and trailing spaces and tabs (much faster than Foundation's `trimmingCharacters`).
func trimmingSpacesAndTabs(_ text: String) -> Substring {
    let utf8 = text.utf8
    var start = utf8.startIndex, end = utf8.endIndex
    while start < end, utf8[start] == 0x20 || utf8[start] == 0x09 { start = utf8.index(after: start) }
    while end > start {
        let before = utf8.index(before: end)
        guard utf8[before] == 0x20 || utf8[before] == 0x09 else { break }
        end = before
    }
    return text[start..<end]
}
