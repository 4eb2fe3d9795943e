/// One label column of a ``Dataset``: a value per row and whether that row has a label at all.
///
/// Multi-task data often lacks some labels for some rows. Such a row keeps its features and its other labels;
/// for this column it has `present[row] == false` and `values[row] == 0`. Losses and metrics mask it out.
public struct LabelColumn: Equatable, Sendable {
    /// The label of each row (a class index such as `3`, or a regression target). `0` where the label is missing.
    public var values: [Float]
    /// `true` where the row has a label in this column.
    public var present: [Bool]
    /// When the data wrote class names rather than numbers (`cat`, `dog`): the name of each class index, in
    /// index order; nil for numeric labels.
    public var classNames: [String]?

    /// Makes a column from values and presence flags of the same length. A missing value is stored as `0`.
    ///
    /// - Precondition: `values.count == present.count` (a programming error, not bad input).
    public init(values: [Float], present: [Bool]) {
        precondition(values.count == present.count, "LabelColumn: \(values.count) values but \(present.count) flags")
        self.values = zip(values, present).map { $1 ? $0 : 0 }
        self.present = present
    }

    /// Makes a column from values that are already `0` wherever `present` is false (loaders), without copying.
    init(checkedValues values: [Float], present: [Bool]) {
        assert(values.count == present.count && zip(values, present).allSatisfy { $1 || $0 == 0 })
        self.values = values
        self.present = present
    }

    /// Makes a column in which every row has a label.
    public init(values: [Float]) {
        self.values = values
        self.present = [Bool](repeating: true, count: values.count)
    }

    /// The number of rows that have a label.
    public var presentCount: Int { present.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// A table of float32 features with named label columns, held in memory.
///
/// Features are stored row-major: feature `j` of row `i` is `features[i * featureCount + j]`. Every label
/// column has `rowCount` entries. Values are as read from the source (for the builtin digits: pixels 0…16);
/// any input scaling is applied later, by the ``Batcher``.
///
/// A dataset may carry a designated validation split (``validationRows``), for data whose rows must not be
/// split at random without leaking (the builtin `multidigits`); ``splitTrainValidation(_:validationFraction:seed:)``
/// honours it.
public struct Dataset: Equatable, Sendable {
    /// The number of rows (examples).
    public var rowCount: Int
    /// The number of features per row.
    public var featureCount: Int
    /// All features, row-major, `rowCount × featureCount`.
    public var features: [Float]
    /// The name of each feature column, `featureCount` of them.
    public var featureNames: [String]
    /// The label columns by name.
    public var labels: [String: LabelColumn]
    /// The rows designated for validation, sorted ascending without repeats, or `nil` when the data has no
    /// designated split (then a split is drawn at random).
    ///
    /// Set by loaders whose rows share material, so that a random split would leak (the builtin `multidigits`
    /// builds rows from pairs of base images and designates as validation the rows made only of held-out images).
    /// Whole-dataset copies keep it; ``subset(rows:)`` drops it (the row numbers no longer mean the same rows).
    public var validationRows: [Int]?
    /// Text and categorical input columns as read, one cell per row, by column name (empty for other data); an
    /// ``InputEncoding`` fitted on the training rows turns them into features.
    public var rawColumns: [String: [String]] = [:]

    /// Makes a dataset, checking that every size agrees.
    ///
    /// - Throws: ``DataError`` when `features.count != rowCount * featureCount`, when the names do not number
    ///   `featureCount`, when a label column does not have `rowCount` rows, or when `validationRows` is not
    ///   sorted ascending without repeats inside `0..<rowCount`.
    public init(rowCount: Int, featureCount: Int, features: [Float], featureNames: [String],
                labels: [String: LabelColumn], validationRows: [Int]? = nil) throws {
        guard rowCount >= 0, featureCount >= 0, features.count == rowCount * featureCount else {
            throw DataError(message: "dataset has \(features.count) feature values, expected rowCount \(rowCount) "
                                + "× featureCount \(featureCount)")
        }
        guard featureNames.count == featureCount else {
            throw DataError(message: "dataset has \(featureNames.count) feature names for \(featureCount) features")
        }
        for (name, column) in labels.sorted(by: { $0.key < $1.key }) where column.values.count != rowCount {
            throw DataError(column: name,
                            message: "label column has \(column.values.count) rows, dataset has \(rowCount)")
        }
        if let validationRows, let problem = validationRowsProblem(validationRows, rowCount: rowCount) {
            throw DataError(message: problem)
        }
        self.rowCount = rowCount
        self.featureCount = featureCount
        self.features = features
        self.featureNames = featureNames
        self.labels = labels
        self.validationRows = validationRows
    }

    /// The label column names, sorted.
    public var labelNames: [String] { labels.keys.sorted() }

    /// The features of one row.
    public func row(_ index: Int) -> ArraySlice<Float> {
        features[(index * featureCount)..<((index + 1) * featureCount)]
    }

    /// A new dataset holding the given rows, in the given order (a row may appear more than once).
    ///
    /// The subset has no designated validation rows (``validationRows`` is `nil`).
    ///
    /// - Precondition: every index is in `0..<rowCount` (a programming error, not bad input).
    public func subset(rows: [Int]) -> Dataset {
        var newFeatures = [Float]()
        newFeatures.reserveCapacity(rows.count * featureCount)
        for r in rows {
            precondition(r >= 0 && r < rowCount, "Dataset.subset: row \(r) outside 0..<\(rowCount)")
            newFeatures.append(contentsOf: row(r))
        }
        var newLabels = [String: LabelColumn]()
        for (name, column) in labels {
            var subset = LabelColumn(values: rows.map { column.values[$0] }, present: rows.map { column.present[$0] })
            subset.classNames = column.classNames
            newLabels[name] = subset
        }
        var result = Dataset(checkedRowCount: rows.count, featureCount: featureCount, features: newFeatures,
                             featureNames: featureNames, labels: newLabels)
        result.rawColumns = rawColumns.mapValues { cells in rows.map { cells[$0] } }
        return result
    }

    /// Makes a dataset whose sizes the caller has already made agree (loaders and ``subset(rows:)``).
    init(checkedRowCount rowCount: Int, featureCount: Int, features: [Float], featureNames: [String],
         labels: [String: LabelColumn], validationRows: [Int]? = nil) {
        assert(features.count == rowCount * featureCount && featureNames.count == featureCount
               && labels.values.allSatisfy { $0.values.count == rowCount })
        assert(validationRows.map { validationRowsProblem($0, rowCount: rowCount) == nil } ?? true)
        self.rowCount = rowCount
        self.featureCount = featureCount
        self.features = features
        self.featureNames = featureNames
        self.labels = labels
        self.validationRows = validationRows
    }
}

/// Why `rows` is not a valid designated validation split of `rowCount` rows, or `nil` when it is: the indices
/// must lie in `0..<rowCount` and ascend strictly (sorted, no repeats).
func validationRowsProblem(_ rows: [Int], rowCount: Int) -> String? {
    var previous = -1
    for (k, r) in rows.enumerated() {
        guard r >= 0, r < rowCount else {
            return "validation row \(r) (entry \(k) of validationRows) is outside 0..<\(rowCount)"
        }
        guard r > previous else {
            return "validationRows must be sorted ascending without repeats; entry \(k) is \(r) after \(previous)"
        }
        previous = r
    }
    return nil
}
