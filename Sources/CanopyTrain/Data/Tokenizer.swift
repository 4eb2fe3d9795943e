import Foundation

/// Splits text into words for ``TextVectorizer``.
///
/// The text is first put in Unicode canonical composed form (NFC, so `e` + combining acute and `é` are one
/// letter), then lowercased when asked (Unicode-aware: `ÉTÉ` → `été`). A word is a maximal run of Unicode
/// scalars that are alphabetic, numeric (any script: `42`, `٣`) or combining marks; every other scalar
/// (spaces, punctuation, apostrophes, symbols, emoji) separates words. So `"Don't stop-loss, 2x!"` gives
/// `don`, `t`, `stop`, `loss`, `2x`. Single-letter words are kept (scikit-learn's default pattern `\w\w+` drops
/// them and keeps `_`; `token_pattern=r"(?u)[^\W_]+"` matches this tokenizer on composed text).
public struct Tokenizer: Equatable, Sendable {
    /// Whether words are lowercased.
    public var lowercase: Bool

    /// Creates a tokenizer.
    public init(lowercase: Bool = true) { self.lowercase = lowercase }

    /// The words of `text`, in order.
    public func words(_ text: String) -> [String] {
        var composed = text.precomposedStringWithCanonicalMapping
        if lowercase { composed = composed.lowercased() }
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in composed.unicodeScalars {
            if Self.isWordScalar(scalar) {
                current.append(scalar)
            } else if !current.isEmpty {
                words.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }

    /// The n-grams of `words` for every n in `ngrams` (words joined by one space), shorter n first, each in
    /// text order.
    public static func ngrams(_ words: [String], _ ngrams: ClosedRange<Int>) -> [String] {
        var result: [String] = []
        for n in ngrams where n <= words.count {
            if n == 1 { result += words; continue }
            for start in 0...(words.count - n) { result.append(words[start..<(start + n)].joined(separator: " ")) }
        }
        return result
    }

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        let p = scalar.properties
        if p.isAlphabetic || p.numericType != nil { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }
}
