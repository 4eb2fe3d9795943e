/// An error found while loading or preparing data, with the place it was found.
///
/// The description reads like a compiler diagnostic: `data.csv:14: column 'p3': empty cell in an input column`.
/// Each place field is optional; a field that does not apply is `nil` and left out of the description.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file being read, as the user named it (a path), or `nil` when the data did not come from a file.
    public var file: String?
    /// The 1-based line in `file`, counting the header row as line 1.
    public var line: Int?
    /// The column (feature or label) concerned.
    public var column: String?
    /// What is wrong, and where useful what would be right.
    public var message: String

    /// Makes an error; leave out the place fields that do not apply.
    public init(file: String? = nil, line: Int? = nil, column: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var place = ""
        if let file {
            place = file
            if let line { place += ":\(line)" }
        } else if let line {
            place = "line \(line)"
        }
        if let column { place += place.isEmpty ? "column '\(column)'" : ": column '\(column)'" }
        return place.isEmpty ? message : "\(place): \(message)"
    }
}

/// Suggests the candidate closest to `name` by edit distance, for "did you mean" hints.
///
/// Returns `nil` when no candidate is within a third of the name's length (at least 2 edits), so that unrelated
/// names are not offered.
func closestName(to name: String, among candidates: [String]) -> String? {
    let limit = max(2, name.count / 3)
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let d = editDistance(name.lowercased(), candidate.lowercased())
        if d <= limit, best == nil || d < best!.distance { best = (candidate, d) }
    }
    return best?.name
}

/// Levenshtein distance between two strings, over Unicode characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
