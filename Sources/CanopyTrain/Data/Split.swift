/// Splits a dataset into a training part and a validation part, the same way for the same seed.
///
/// **Designated split.** When the dataset carries ``Dataset/validationRows`` (the builtin `multidigits` does), the
/// validation part is exactly those rows and the training part every other row, both in their original order;
/// `validationFraction` and `seed` are then not used for the split (the fraction must still be in `[0, 1)`). Such
/// data shares material between rows, so a random split would leak validation images into training.
///
/// **Random split** (no designated rows). The rows are permuted with ``SeededRandom``
/// (`SeededRandom(seed: seed).permutation(rowCount)`, a Fisher–Yates shuffle); the first `v` rows of the
/// permutation go to validation and the rest to training. Each part then lists its rows in their original order
/// (the ``Batcher`` shuffles per epoch).
///
/// `v = round(validationFraction × rowCount)`, then kept within `1 … rowCount − 1` when `rowCount ≥ 2`, so that
/// both parts have at least one row. A fraction of exactly 0 means no validation: every row trains and the
/// validation part is empty. With one row (or none) everything goes to training.
///
/// Neither part carries designated validation rows of its own.
///
/// - Parameters:
///   - validationFraction: the share of rows held out, in `[0, 1)`.
///   - seed: the seed of the permutation.
/// - Throws: ``DataError`` when the fraction is not a number in `[0, 1)`, or when the designated validation rows
///   are not sorted ascending without repeats inside `0..<rowCount`.
public func splitTrainValidation(_ d: Dataset, validationFraction: Double, seed: UInt64) throws
    -> (train: Dataset, validation: Dataset)
{
    let validationRows = try heldOutRows(d, validationFraction: validationFraction, seed: seed)
    var isValidation = [Bool](repeating: false, count: d.rowCount)
    for r in validationRows { isValidation[r] = true }
    let trainRows = (0..<d.rowCount).filter { !isValidation[$0] }
    return (d.subset(rows: trainRows), d.subset(rows: validationRows))
}

/// The same split as ``splitTrainValidation(_:validationFraction:seed:)``, made in place: `d` becomes the
/// training part (its rows moved forward over the held-out ones, keeping their order) and the validation part
/// is returned.
///
/// Memory: the validation rows are copied, the training rows are not, so splitting a dataset of size S takes
/// about S + the validation share of S rather than 2·S.
func splitOffValidation(_ d: inout Dataset, validationFraction: Double, seed: UInt64) throws -> Dataset {
    let validationRows = try heldOutRows(d, validationFraction: validationFraction, seed: seed)
    let validation = d.subset(rows: validationRows)
    var isValidation = [Bool](repeating: false, count: d.rowCount)
    for r in validationRows { isValidation[r] = true }
    let width = d.featureCount
    var kept = 0
    for r in 0..<d.rowCount where !isValidation[r] {
        if kept != r {
            for j in 0..<width { d.features[kept * width + j] = d.features[r * width + j] }
        }
        kept += 1
    }
    d.features.removeLast(d.features.count - kept * width)
    for name in d.labels.keys {
        var column = d.labels.removeValue(forKey: name)!
        var k = 0
        for r in 0..<d.rowCount where !isValidation[r] {
            column.values[k] = column.values[r]
            column.present[k] = column.present[r]
            k += 1
        }
        column.values.removeLast(column.values.count - kept)
        column.present.removeLast(column.present.count - kept)
        d.labels[name] = column
    }
    for name in d.rawColumns.keys {
        var cells = d.rawColumns.removeValue(forKey: name)!
        var k = 0
        for r in 0..<d.rowCount where !isValidation[r] {
            cells[k] = cells[r]
            k += 1
        }
        cells.removeLast(cells.count - kept)
        d.rawColumns[name] = cells
    }
    d.rowCount = kept
    d.validationRows = nil
    return validation
}

/// The rows held out for validation, sorted ascending: the designated ones, or the first `v` of a seeded
/// permutation (see ``splitTrainValidation(_:validationFraction:seed:)``).
private func heldOutRows(_ d: Dataset, validationFraction: Double, seed: UInt64) throws -> [Int] {
    guard validationFraction >= 0, validationFraction < 1 else {
        throw DataError(message: "validation fraction must be at least 0 and below 1, got \(validationFraction)")
    }
    let n = d.rowCount
    if let designated = d.validationRows {
        if let problem = validationRowsProblem(designated, rowCount: n) { throw DataError(message: problem) }
        return designated
    }
    var validationCount = 0
    if validationFraction > 0, n >= 2 {
        validationCount = Int((validationFraction * Double(n)).rounded())
        validationCount = min(max(validationCount, 1), n - 1)
    }
    var random = SeededRandom(seed: seed)
    return random.permutation(n)[..<validationCount].sorted()
}
