import CanopyModel
import Foundation

/// Turns a text column into features with a vocabulary fitted on the training rows (`input.text:`).
///
/// **Vocabulary.** Every row is split by ``Tokenizer`` and its n-grams taken (``Tokenizer/ngrams(_:_:)``). The
/// vocabulary is the `vocabulary` n-grams with the highest total count over the training rows, ties broken by
/// the n-gram's text in ascending Unicode scalar order, and kept in that order (most frequent first). Only the
/// rows passed to ``fitted(_:on:)`` count: the caller fits on the training rows, never validation or test.
///
/// **Features** of one row, `spec.featureCount` of them, in vocabulary order:
/// - `counts`: how often each vocabulary n-gram occurs in the row.
/// - `tfidf`: count × idf, with smooth idf `ln((1 + n) / (1 + df)) + 1` (n training rows, df of them containing
///   the n-gram), then the row divided by its Euclidean norm (a row with no vocabulary n-gram stays zero). This
///   is scikit-learn's `TfidfVectorizer(smooth_idf=True, norm="l2", sublinear_tf=False)` with the same vocabulary.
/// - `tokens`: the row's words as ids in `0..<vocabulary`, `length` of them: 0 pads a row shorter than `length`
///   (at the end; a longer one is cut), 1 is a word outside the vocabulary, and the `vocabulary − 2` most frequent
///   words are 2, 3, … in order — so an `embedding` with the same `vocabulary` has a row for every id.
/// When the training text has fewer distinct n-grams than `vocabulary`, the remaining features stay zero.
public struct TextVectorizer: Equatable, Sendable {
    /// The model file's settings.
    public var spec: TextInputSpec
    /// The fitted vocabulary, most frequent first.
    public var terms: [String]
    /// The smooth idf of each term (used by `tfidf`; stored for every vectorizer).
    public var idf: [Float]
    private var index: [String: Int]

    /// Makes a vectorizer from a fitted vocabulary (as read back from a checkpoint).
    public init(spec: TextInputSpec, terms: [String], idf: [Float]) {
        self.spec = spec
        self.terms = terms
        self.idf = idf
        var index: [String: Int] = [:]
        for (k, term) in terms.enumerated() { index[term] = k }
        self.index = index
    }

    private var tokenizer: Tokenizer { Tokenizer(lowercase: spec.lowercase) }

    /// Fits the vocabulary and idf on `texts` (the training rows' cells).
    public static func fitted(_ spec: TextInputSpec, on texts: [String]) -> TextVectorizer {
        let tokenizer = Tokenizer(lowercase: spec.lowercase)
        var total: [String: Int] = [:], documents: [String: Int] = [:]
        for text in texts {
            let grams = Tokenizer.ngrams(tokenizer.words(text), spec.ngrams)
            for gram in grams { total[gram, default: 0] += 1 }
            for gram in Set(grams) { documents[gram, default: 0] += 1 }
        }
        let ranked = total.sorted { a, b in
            a.value != b.value ? a.value > b.value : Array(a.key.unicodeScalars.map(\.value)).lexicographicallyPrecedes(
                b.key.unicodeScalars.map(\.value))
        }
        let terms = ranked.prefix(spec.termCount).map(\.key)
        let n = Double(texts.count)
        let idf = terms.map { Float(log((1 + n) / (1 + Double(documents[$0]!))) + 1) }
        return TextVectorizer(spec: spec, terms: terms, idf: idf)
    }

    /// Writes the features of `text` into `out` (`spec.featureCount` floats, overwritten).
    public func features(_ text: String, into out: inout ArraySlice<Float>) {
        let base = out.startIndex
        for j in out.indices { out[j] = 0 }
        let words = tokenizer.words(text)
        switch spec.vectorizer {
        case .tokens:
            for (k, word) in words.prefix(spec.length).enumerated() {
                out[base + k] = Float(index[word].map { $0 + 2 } ?? 1)
            }
        case .counts, .tfidf:
            var counts: [Int: Int] = [:]
            for gram in Tokenizer.ngrams(words, spec.ngrams) {
                if let k = index[gram] { counts[k, default: 0] += 1 }
            }
            if spec.vectorizer == .counts {
                for (k, c) in counts { out[base + k] = Float(c) }
                return
            }
            var weights: [Int: Double] = [:], square = 0.0
            for (k, c) in counts {
                let w = Double(c) * Double(idf[k])
                weights[k] = w
                square += w * w
            }
            let norm = square.squareRoot()
            guard norm > 0 else { return }
            for (k, w) in weights { out[base + k] = Float(w / norm) }
        }
    }

    /// The feature names: `text:TERM` per vocabulary slot (`text:#k` for an unfilled one), or `text[i]` for tokens.
    public var featureNames: [String] {
        let column = spec.column
        if spec.vectorizer == .tokens { return (0..<spec.length).map { "\(column)[\($0)]" } }
        return (0..<spec.vocabulary).map { $0 < terms.count ? "\(column):\(terms[$0])" : "\(column):#\($0)" }
    }
}
