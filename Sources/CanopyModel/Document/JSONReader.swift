/// Reads strict JSON (RFC 8259) into a ``DocumentNode`` tree, recording each value's line and column.
///
/// Written by hand rather than with `JSONSerialization` so that every value keeps its position, duplicate keys
/// and key order survive to the decoder, and errors name the line and column. Strings become quoted scalars;
/// numbers, `true`, `false` and `null` become plain scalars with their source text, so YAML and JSON decode alike.
struct JSONReader {
    let fileName: String
    private var scalars: [Unicode.Scalar] = []
    private var index = 0
    private var line = 1
    private var column = 1
    private var nodes = 0

    init(fileName: String) { self.fileName = fileName }

    /// The document's root, or nil when the text is only whitespace.
    mutating func read(_ text: String) throws -> DocumentNode? {
        scalars = Array(text.unicodeScalars)
        index = 0; line = 1; column = 1; nodes = 0
        skipWhitespace()
        guard index < scalars.count else { return nil }
        let root = try value(depth: 0)
        skipWhitespace()
        if index < scalars.count { throw error("unexpected \(describe(scalars[index])) after the JSON value") }
        return root
    }

    private mutating func value(depth: Int) throws -> DocumentNode {
        if depth > ModelLimits.maxNesting {
            throw error("arrays and objects are nested more than \(ModelLimits.maxNesting) deep")
        }
        nodes += 1
        if nodes > ModelLimits.maxNodes { throw error("the document has more than \(ModelLimits.maxNodes) values") }
        guard let c = peek() else { throw error("unexpected end of text, expected a value") }
        let (startLine, startColumn) = (line, column)
        func node(_ content: DocumentNode.Content) -> DocumentNode {
            DocumentNode(content: content, line: startLine, column: startColumn)
        }
        switch c {
        case "{": return node(.mapping(try object(depth: depth)))
        case "[": return node(.sequence(try array(depth: depth)))
        case "\"": return node(.scalar(try string(), quoted: true))
        case "-", "0"..."9": return node(.scalar(try number(), quoted: false))
        case "t", "f", "n":
            for word in ["true", "false", "null"] where matches(word) {
                for _ in word.unicodeScalars { advance() }
                return node(.scalar(word, quoted: false))
            }
            throw error("unexpected \(describe(c)), expected a value (strings need double quotes)")
        default:
            throw error("unexpected \(describe(c)), expected a value")
        }
    }

    private mutating func object(depth: Int) throws -> [DocumentNode.Pair] {
        advance() // {
        var pairs: [DocumentNode.Pair] = []
        skipWhitespace()
        if peek() == "}" { advance(); return pairs }
        while true {
            skipWhitespace()
            guard peek() == "\"" else {
                throw error("expected a key in double quotes, found \(describe(peek()))")
            }
            let (keyLine, keyColumn) = (line, column)
            let key = DocumentNode(content: .scalar(try string(), quoted: true), line: keyLine, column: keyColumn)
            skipWhitespace()
            guard peek() == ":" else { throw error("expected ':' after a key, found \(describe(peek()))") }
            advance()
            skipWhitespace()
            pairs.append(DocumentNode.Pair(key: key, value: try value(depth: depth + 1)))
            skipWhitespace()
            switch peek() {
            case ",": advance()
            case "}": advance(); return pairs
            default: throw error("expected ',' or '}' after a value in an object, found \(describe(peek()))")
            }
        }
    }

    private mutating func array(depth: Int) throws -> [DocumentNode] {
        advance() // [
        var items: [DocumentNode] = []
        skipWhitespace()
        if peek() == "]" { advance(); return items }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            switch peek() {
            case ",": advance()
            case "]": advance(); return items
            default: throw error("expected ',' or ']' after a value in an array, found \(describe(peek()))")
            }
        }
    }

    /// A double-quoted string with JSON escapes, including `\u` surrogate pairs.
    private mutating func string() throws -> String {
        advance() // opening quote
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek() else { throw error("unterminated string") }
            if c == "\"" { advance(); return String(out) }
            if c.value < 0x20 { throw error("control character U+\(hex4Digits(c.value)) in a string (escape it)") }
            advance()
            guard c == "\\" else { out.append(c); continue }
            guard let e = peek() else { throw error("unterminated string") }
            advance()
            switch e {
            case "\"", "\\", "/": out.append(e)
            case "b": out.append("\u{8}")
            case "f": out.append("\u{C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "u":
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard matches("\\u") else { throw error("unpaired surrogate \\u\(String(code, radix: 16))") }
                    advance(); advance()
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("invalid surrogate pair in a string") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else {
                    throw error("\\u\(String(code, radix: 16)) is not a Unicode scalar")
                }
                out.append(scalar)
            default:
                throw error("invalid escape '\\\(e)' in a string")
            }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let c = peek(), let digit = Int(String(c), radix: 16) else {
                throw error("expected four hex digits after \\u, found \(describe(peek()))")
            }
            code = code * 16 + UInt32(digit)
            advance()
        }
        return code
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, returned as its text.
    private mutating func number() throws -> String {
        var text = ""
        func digits() -> Int {
            var n = 0
            while let c = peek(), ("0"..."9").contains(c) { text.unicodeScalars.append(c); advance(); n += 1 }
            return n
        }
        if peek() == "-" { text.append("-"); advance() }
        if peek() == "0" {
            text.append("0"); advance()
            if let c = peek(), ("0"..."9").contains(c) { throw error("numbers may not start with a 0") }
        } else if digits() == 0 {
            throw error("expected a digit, found \(describe(peek()))")
        }
        if peek() == "." {
            text.append("."); advance()
            if digits() == 0 { throw error("expected a digit after '.', found \(describe(peek()))") }
        }
        if peek() == "e" || peek() == "E" {
            text.append("e"); advance()
            if let c = peek(), c == "+" || c == "-" { text.unicodeScalars.append(c); advance() }
            if digits() == 0 { throw error("expected a digit in the exponent, found \(describe(peek()))") }
        }
        return text
    }

    private func peek() -> Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private func matches(_ word: String) -> Bool {
        var i = index
        for s in word.unicodeScalars {
            guard i < scalars.count, scalars[i] == s else { return false }
            i += 1
        }
        return true
    }

    private mutating func advance() {
        if scalars[index] == "\n" { line += 1; column = 1 } else { column += 1 }
        index += 1
    }

    private mutating func skipWhitespace() {
        while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" { advance() }
    }

    private func describe(_ c: Unicode.Scalar?) -> String {
        guard let c else { return "the end of the text" }
        if c.value < 0x20 || c.value == 0x7F { return "character U+\(hex4Digits(c.value))" }
        return "'\(c)'"
    }

    private func error(_ message: String) -> ModelFileError {
        ModelFileError(location: SourceLocation(file: fileName, line: line, column: column), keyPath: "",
                       message: "JSON syntax error: \(message)")
    }
}

/// `value` as at least four upper-case hex digits.
private func hex4Digits(_ value: UInt32) -> String {
    let hex = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - hex.count)) + hex
}
