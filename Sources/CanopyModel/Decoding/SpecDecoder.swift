import Foundation

/// Turns a ``DocumentNode`` tree into spec values, checking shape and type (not ranges: ``SpecRules`` and each
/// ``Layer``'s check, run by the graph builder, do those) and recording where every value was written, by key path.
final class SpecDecoder {
    let fileName: String
    /// Where each decoded value was written, by key path; becomes ``ModelSpec/locations``.
    private(set) var locations: [String: SourceLocation] = [:]

    init(fileName: String) { self.fileName = fileName }

    func location(of node: DocumentNode) -> SourceLocation {
        SourceLocation(file: fileName, line: node.line, column: node.column)
    }

    /// Remembers that the value at `path` is written at `node`.
    func record(_ node: DocumentNode, at path: String) {
        if locations[path] == nil { locations[path] = location(of: node) }
    }

    func error(_ node: DocumentNode, _ path: String, _ message: String) -> ModelFileError {
        ModelFileError(location: location(of: node), keyPath: path, message: message)
    }

    /// `parent.key`, or `key` at the top.
    static func join(_ parent: String, _ key: String) -> String { parent.isEmpty ? key : "\(parent).\(key)" }

    // MARK: Mappings

    /// The entries of a mapping whose keys must come from `allowed`.
    struct Fields {
        let decoder: SpecDecoder
        let node: DocumentNode
        let path: String
        let entries: [String: DocumentNode.Pair]

        /// The value at `key`, or nil when it is absent or null.
        func optional(_ key: String) -> DocumentNode? {
            guard let entry = entries[key], !entry.value.isNull else { return nil }
            decoder.record(entry.value, at: keyPath(key))
            return entry.value
        }

        /// The value at `key`; an error at the mapping when it is absent, at the key when it is null.
        func required(_ key: String) throws -> DocumentNode {
            if let value = optional(key) { return value }
            if let entry = entries[key] { throw decoder.error(entry.key, keyPath(key), "'\(key)' needs a value") }
            throw decoder.error(node, keyPath(key), "missing required key '\(key)'")
        }

        func keyPath(_ key: String) -> String { SpecDecoder.join(path, key) }
    }

    /// Reads `node` as a mapping with keys from `allowed` (unknown keys get a suggestion, duplicates are refused).
    func fields(_ node: DocumentNode, _ path: String, allowed: [String], what: String) throws -> Fields {
        let pairs = try mappingPairs(node, path, what: what)
        var entries: [String: DocumentNode.Pair] = [:]
        for pair in pairs {
            let key = pair.key
            let name = try keyText(key, path)
            guard allowed.contains(name) else {
                let hint = Suggestion.didYouMean(name, among: allowed)
                throw error(key, Self.join(path, name.truncatedForMessage), "unknown key '\(name.truncatedForMessage)'"
                                + (hint.isEmpty ? " (expected one of: \(allowed.joined(separator: ", ")))" : hint))
            }
            if let first = entries[name] {
                throw error(key, Self.join(path, name.truncatedForMessage),
                            "duplicate key '\(name.truncatedForMessage)' (first written at line \(first.key.line))")
            }
            entries[name] = pair
        }
        record(node, at: path)
        return Fields(decoder: self, node: node, path: path, entries: entries)
    }

    /// The pairs of a mapping, in order; an error when `node` is not a mapping.
    func mappingPairs(_ node: DocumentNode, _ path: String, what: String) throws -> [DocumentNode.Pair] {
        guard case .mapping(let pairs) = node.content else {
            throw error(node, path, "expected \(what), found \(node.kindDescription)")
        }
        return pairs
    }

    /// A mapping key's text; keys are scalars.
    func keyText(_ key: DocumentNode, _ path: String) throws -> String {
        guard case .scalar(let text, _) = key.content else {
            throw error(key, path, "a key must be a word, found \(key.kindDescription)")
        }
        return text
    }

    /// Refuses a second key with the same text among `pairs` (for mappings whose keys are names, like `tasks`).
    func checkDuplicates(_ pairs: [DocumentNode.Pair], _ path: String) throws {
        var seen: [String: Int] = [:]
        for key in pairs.map(\.key) {
            let name = try keyText(key, path)
            if let line = seen[name] {
                throw error(key, Self.join(path, name), "duplicate key '\(name)' (first written at line \(line))")
            }
            seen[name] = key.line
        }
    }

    // MARK: Scalars

    func list(_ node: DocumentNode, _ path: String, of what: String) throws -> [DocumentNode] {
        guard case .sequence(let items) = node.content else {
            throw error(node, path, "expected a list of \(what), found \(node.kindDescription)")
        }
        for (i, item) in items.enumerated() { record(item, at: "\(path)[\(i)]") }
        return items
    }

    func string(_ node: DocumentNode, _ path: String) throws -> String {
        guard case .scalar(let text, _) = node.content, !node.isNull else {
            throw error(node, path, "expected a string, found \(node.kindDescription)")
        }
        return text
    }

    /// A plain scalar's text when it is a number (not quoted, not a list or mapping).
    private func numberText(_ node: DocumentNode, _ path: String, _ kind: String) throws -> String {
        guard case .scalar(let text, quoted: false) = node.content, NumberSyntax.isNumber(text) else {
            if case .scalar(let text, quoted: false) = node.content, NumberSyntax.isSpecialFloat(text) {
                throw error(node, path, "expected \(kind), found '\(text)' (infinity and NaN are not allowed)")
            }
            throw error(node, path, "expected \(kind), found \(node.kindDescription)")
        }
        return text
    }

    func int(_ node: DocumentNode, _ path: String) throws -> Int {
        let text = try numberText(node, path, "an integer")
        guard NumberSyntax.isInteger(text) else {
            throw error(node, path, "expected an integer, found '\(text.truncatedForMessage)'")
        }
        guard let value = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text) else {
            throw error(node, path, "the integer \(text.truncatedForMessage) is too large")
        }
        return value
    }

    func seed(_ node: DocumentNode, _ path: String) throws -> UInt64 {
        let text = try numberText(node, path, "an integer seed")
        guard NumberSyntax.isInteger(text), !text.hasPrefix("-") else {
            throw error(node, path, "a seed must be an integer ≥ 0, found '\(text.truncatedForMessage)'")
        }
        guard let value = UInt64(text.hasPrefix("+") ? String(text.dropFirst()) : text) else {
            throw error(node, path, "the seed \(text.truncatedForMessage) is larger than \(UInt64.max)")
        }
        return value
    }

    func double(_ node: DocumentNode, _ path: String) throws -> Double {
        let text = try numberText(node, path, "a number")
        guard let value = Double(text), value.isFinite else {
            throw error(node, path, "the number \(text.truncatedForMessage) is out of range")
        }
        return value
    }

    func float(_ node: DocumentNode, _ path: String) throws -> Float {
        let value = try double(node, path)
        guard abs(value) <= Double(Float.greatestFiniteMagnitude) else {
            throw error(node, path, "the number \(value) is too large for 32-bit floats")
        }
        return Float(value)
    }

    /// `true` or `false` (also `True`, `TRUE`, `False`, `FALSE`, as YAML 1.2 reads them), unquoted.
    func bool(_ node: DocumentNode, _ path: String) throws -> Bool {
        if case .scalar(let text, quoted: false) = node.content {
            if ["true", "True", "TRUE"].contains(text) { return true }
            if ["false", "False", "FALSE"].contains(text) { return false }
        }
        throw error(node, path, "expected true or false, found \(node.kindDescription)")
    }

    /// A word from `choices` (a loss, metric, optimizer...), with a suggestion when it is not one.
    func word(_ node: DocumentNode, _ path: String, among choices: [String], what: String) throws -> String {
        guard case .scalar(let text, _) = node.content, !node.isNull else {
            throw error(node, path, "expected \(what) (one of \(choices.joined(separator: ", "))), "
                            + "found \(node.kindDescription)")
        }
        guard choices.contains(text) else {
            let hint = Suggestion.didYouMean(text, among: choices)
            throw error(node, path, "unknown \(what) '\(text.truncatedForMessage)'"
                            + (hint.isEmpty ? " (expected one of: \(choices.joined(separator: ", ")))" : hint))
        }
        return text
    }
}

/// The number syntax model files accept: `[-+]digits`, with an optional fraction and exponent (`1e-3`, `.5`, `2.`).
enum NumberSyntax {
    static func isInteger(_ text: String) -> Bool {
        var scalars = Substring(text).unicodeScalars[...]
        if let first = scalars.first, first == "-" || first == "+" { scalars = scalars.dropFirst() }
        return !scalars.isEmpty && scalars.allSatisfy { ("0"..."9").contains($0) }
    }

    static func isNumber(_ text: String) -> Bool {
        let s = Array(text.unicodeScalars)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < s.count, ("0"..."9").contains(s[i]) { i += 1 }
            return i - start
        }
        if i < s.count, s[i] == "-" || s[i] == "+" { i += 1 }
        var mantissa = digits()
        if i < s.count, s[i] == "." { i += 1; mantissa += digits() }
        guard mantissa > 0 else { return false }
        if i < s.count, s[i] == "e" || s[i] == "E" {
            i += 1
            if i < s.count, s[i] == "-" || s[i] == "+" { i += 1 }
            guard digits() > 0 else { return false }
        }
        return i == s.count
    }

    /// YAML's infinities and NaN (`.inf`, `-.Inf`, `.nan`, ...), which no model value accepts.
    static func isSpecialFloat(_ text: String) -> Bool {
        let lower = text.lowercased()
        return [".inf", "+.inf", "-.inf", ".nan", "inf", "-inf", "nan", "infinity"].contains(lower)
    }
}
