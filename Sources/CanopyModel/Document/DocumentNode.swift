/// A model file's content as a tree with positions: what YAML and JSON both read into before decoding.
///
/// Scalars keep their text; whether a plain (unquoted) scalar is a number, a boolean or null is decided when it is
/// decoded, so `"16"` (quoted) is a string where `16` is an integer, in YAML and JSON alike.
struct DocumentNode {
    enum Content {
        /// A scalar's text; `quoted` is true for quoted, literal and folded YAML scalars and for JSON strings.
        case scalar(String, quoted: Bool)
        case sequence([DocumentNode])
        /// Key–value pairs in document order; duplicates are kept here and refused when decoded.
        case mapping([Pair])
    }

    /// One entry of a mapping.
    struct Pair {
        var key: DocumentNode
        var value: DocumentNode
    }

    var content: Content
    /// 1-based line and column (in Unicode scalars) where the node starts.
    var line: Int
    var column: Int

    /// A plain scalar that YAML reads as null: empty, `~`, `null`, `Null`, `NULL` (JSON `null`).
    var isNull: Bool {
        if case .scalar(let text, quoted: false) = content {
            return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
        }
        return false
    }

    /// "a string", "an integer"-style description of the node's kind, for type errors.
    var kindDescription: String {
        switch content {
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .scalar(let text, let quoted):
            if quoted { return "the string \"\(text.truncatedForMessage)\"" }
            if isNull { return "nothing (null)" }
            return "'\(text.truncatedForMessage)'"
        }
    }
}

extension String {
    /// The string cut to 40 characters with an ellipsis, for quoting user text in messages.
    var truncatedForMessage: String {
        count <= 40 ? self : String(prefix(40)) + "…"
    }
}
