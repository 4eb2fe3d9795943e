/// Small helpers that write JSON text by hand, for output whose key order matters (log lines, file headers).

/// `text` as a JSON string literal, quotes included: `"`, `\` and control characters are escaped
/// (`\n`, `\t`, … or `\u00XX`); everything else, including non-ASCII, is written as is (JSON text is UTF-8).
func jsonString(_ text: String) -> String {
    var out = "\""
    out.reserveCapacity(text.utf8.count + 2)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    out += "\""
    return out
}

/// `value` as a JSON number, or `null` when it is not finite (JSON has no NaN or infinity).
///
/// Integral values of moderate size are written without a fraction (`3`, not `3.0`); others use Swift's
/// shortest representation that reads back to the same double (`0.1`, `1e-07`).
func jsonNumber(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
}
