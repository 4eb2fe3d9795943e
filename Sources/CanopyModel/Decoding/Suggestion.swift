/// "Did you mean" suggestions by edit distance.
enum Suggestion {
    /// ` (did you mean 'dense'?)` when a candidate is close to `word`, else the empty string.
    ///
    /// Close means a Levenshtein distance (case ignored) of at most 2, or a third of the candidate's length for
    /// long words.
    static func didYouMean(_ word: String, among candidates: [String]) -> String {
        guard let best = closest(word, among: candidates) else { return "" }
        return " (did you mean '\(best)'?)"
    }

    /// The closest candidate within the distance above, or nil.
    static func closest(_ word: String, among candidates: [String]) -> String? {
        let lower = Array(word.lowercased().unicodeScalars)
        var best: (String, Int)?
        for candidate in candidates {
            let distance = levenshtein(lower, Array(candidate.lowercased().unicodeScalars))
            let allowed = max(2, candidate.count / 3)
            if distance <= allowed && distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
        }
        return best?.0
    }

    /// The edit distance (insertions, deletions, substitutions) between two scalar arrays.
    static func levenshtein(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
