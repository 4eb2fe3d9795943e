/// Parses a numeric cell: surrounding spaces and tabs are ignored; the number must be finite.
///
/// Returns `nil` for an empty (or blank) cell. Every other byte of the cell must belong to the number: `1<NUL>2`,
/// a control character or trailing text is an error, not `1`. Numbers are what Swift's `Float(_: String)` reads
/// (decimal with optional exponent, hexadecimal such as `0x1p-3`), correctly rounded to float32.
///
/// - Throws: ``DataError`` naming `file`, `line` and `column` for text that is not a finite number.
func parseNumericCell(_ cell: UnsafeBufferPointer<UInt8>, file: String, line: Int, column: String) throws -> Float? {
    let trimmed = trimmingSpacesAndTabs(cell)
    if trimmed.isEmpty { return nil }
    if let value = parseDecimalFast(trimmed) { return value }
    func failure(_ what: String) -> DataError {
        DataError(file: file, line: line, column: column, message: "'\(printable(cell))' is \(what)")
    }
    if let control = trimmed.first(where: { $0 < 0x20 || $0 == 0x7F }) {
        throw failure("not a number (it holds the control character U+\(hex(control)))")
    }
    // Only printable ASCII can be part of a number; the standard library reads the rest.
    guard trimmed.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), let value = Float(String(decoding: trimmed, as: UTF8.self))
    else { throw failure("not a number") }
    guard value.isFinite else { throw failure("not a finite number") }
    return value
}

/// Parses `[+-]digits[.digits][(e|E)[+-]digits]` with at most 8 significant digits and a decimal exponent within
/// ±10 exactly: the mantissa and the power of ten are both exact float32 values, so one multiplication or division
/// rounds correctly (Clinger's fast path). Returns `nil` for anything else, which the caller hands to the standard
/// library.
func parseDecimalFast(_ text: UnsafeBufferPointer<UInt8>) -> Float? {
    let n = text.count
    var i = 0
    var negative = false
    if i < n, text[i] == 0x2B || text[i] == 0x2D {
        negative = text[i] == 0x2D
        i += 1
    }
    var mantissa = 0, significant = 0, exponent = 0, sawDigit = false
    func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    while i < n, isDigit(text[i]) {
        sawDigit = true
        if mantissa != 0 || text[i] != 0x30 { significant += 1 }
        mantissa = mantissa * 10 + Int(text[i] - 0x30)
        i += 1
        if significant > 8 { return nil }
    }
    if i < n, text[i] == 0x2E {
        i += 1
        while i < n, isDigit(text[i]) {
            sawDigit = true
            if mantissa != 0 || text[i] != 0x30 { significant += 1 }
            mantissa = mantissa * 10 + Int(text[i] - 0x30)
            exponent -= 1
            i += 1
            if significant > 8 { return nil }
        }
    }
    guard sawDigit else { return nil }
    if i < n, text[i] == 0x65 || text[i] == 0x45 {
        i += 1
        var exponentNegative = false
        if i < n, text[i] == 0x2B || text[i] == 0x2D {
            exponentNegative = text[i] == 0x2D
            i += 1
        }
        var written = 0, digits = 0
        while i < n, isDigit(text[i]), digits < 4 {
            written = written * 10 + Int(text[i] - 0x30)
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        exponent += exponentNegative ? -written : written
    }
    guard i == n, mantissa <= 1 << 24 else { return nil }
    if mantissa == 0 { return negative ? -0.0 : 0.0 }
    guard exponent >= -10, exponent <= 10 else { return nil }
    var value = Float(mantissa)
    value = exponent >= 0 ? value * exactPowersOfTen[exponent] : value / exactPowersOfTen[-exponent]
    return negative ? -value : value
}

/// 10⁰ … 10¹⁰, each exact in float32 (10¹⁰ = 2¹⁰ · 5¹⁰ and 5¹⁰ < 2²⁴).
private let exactPowersOfTen: [Float] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

/// `bytes` without leading and trailing spaces and tabs.
func trimmingSpacesAndTabs(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    var start = 0, end = bytes.count
    while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
    while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
    return UnsafeBufferPointer(rebasing: bytes[start..<end])
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

/// A cell's text for an error message, with control characters written as `\u{0}` so that a NUL or an escape
/// sequence cannot garble the terminal.
func printable(_ cell: UnsafeBufferPointer<UInt8>) -> String {
    var text = ""
    for scalar in String(decoding: cell, as: UTF8.self).unicodeScalars {
        if scalar.value < 0x20 || scalar.value == 0x7F {
            text += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        } else {
            text.unicodeScalars.append(scalar)
        }
    }
    return text
}

/// A byte as four hexadecimal digits, for `U+0000`.
private func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return String(repeating: "0", count: 4 - digits.count) + digits
}
