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
    guard validationFraction >= 0, validationFraction < 1 else {
        throw DataError(message: "validation fraction must be at least 0 and below 1, got \(validationFraction)")
    }
    let n = d.rowCount
    if let designated = d.validationRows {
        if let problem = validationRowsProblem(designated, rowCount: n) { throw DataError(message: problem) }
        var isValidation = [Bool](repeating: false, count: n)
        for r in designated { isValidation[r] = true }
        let trainRows = (0..<n).filter { !isValidation[$0] }
        return (d.subset(rows: trainRows), d.subset(rows: designated))
    }
    var validationCount = 0
    if validationFraction > 0, n >= 2 {
        validationCount = Int((validationFraction * Double(n)).rounded())
        validationCount = min(max(validationCount, 1), n - 1)
    }
    var random = SeededRandom(seed: seed)
    let order = random.permutation(n)
    let validationRows = order[..<validationCount].sorted()
    let trainRows = order[validationCount...].sorted()
    return (d.subset(rows: trainRows), d.subset(rows: validationRows))
}
