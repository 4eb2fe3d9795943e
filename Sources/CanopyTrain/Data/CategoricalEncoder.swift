import CanopyModel

/// Turns categorical columns into features with categories fitted on the training rows (`input.categorical:`).
///
/// A column's categories are the distinct cells of the training rows (spaces and tabs around a cell ignored),
/// sorted by Unicode scalar order, as class names are. An empty cell is refused when the data is read.
/// - `onehot`: one feature per category, 1 for the row's category and 0 for the others; a category the
///   training rows never had (at validation, test or predict time) gives all zeros.
/// - `index`: one feature, `2 + k` for category k; an unknown category gives 1 (0 is never produced, matching
///   ``TextVectorizer``'s tokens so an `embedding` layer can take both).
public struct CategoricalEncoder: Equatable, Sendable {
    /// The model file's settings.
    public var spec: CategoricalInputSpec
    /// Each column's categories, in `spec.columns` order.
    public var categories: [[String]]

    /// Makes an encoder from fitted categories (as read back from a checkpoint).
    public init(spec: CategoricalInputSpec, categories: [[String]]) {
        self.spec = spec
        self.categories = categories
        lookup = categories.map { names in
            var index: [String: Int] = [:]
            for (k, name) in names.enumerated() { index[name] = k }
            return index
        }
    }

    private var lookup: [[String: Int]]

    /// Fits the categories on the training rows' cells (`cells[c][row]` for column c).
    public static func fitted(_ spec: CategoricalInputSpec, on cells: [[String]]) -> CategoricalEncoder {
        let categories = cells.map { column in
            Set(column).sorted { $0.unicodeScalars.map(\.value).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
        }
        return CategoricalEncoder(spec: spec, categories: categories)
    }

    /// The number of features each row gets.
    public var featureCount: Int {
        spec.encoding == .index ? categories.count : categories.reduce(0) { $0 + $1.count }
    }

    /// Writes the features of one row (its cell in each column) into `out` (`featureCount` floats, overwritten).
    public func features(_ row: [String], into out: inout ArraySlice<Float>) {
        var j = out.startIndex
        for (c, cell) in row.enumerated() {
            let k = lookup[c][cell]
            if spec.encoding == .index {
                out[j] = Float(k.map { $0 + 2 } ?? 1)
                j += 1
            } else {
                for i in 0..<categories[c].count { out[j + i] = i == k ? 1 : 0 }
                j += categories[c].count
            }
        }
    }

    /// The feature names: `column=category` for one-hot, the column name for index.
    public var featureNames: [String] {
        if spec.encoding == .index { return spec.columns }
        return zip(spec.columns, categories).flatMap { column, names in names.map { "\(column)=\($0)" } }
    }
}
