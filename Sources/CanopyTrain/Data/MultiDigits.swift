/// The builtin `multidigits`: two 8 × 8 digits side by side, four tasks per image, with a split that does not leak.
///
/// The MultiMNIST idea (Sabour et al., 2017; used for multi-task learning by Sener & Koltun, 2018) on the shipped
/// digits. Each row is an image of shape `[1, 8, 16]`: the left digit fills columns 0–7, the right digit columns
/// 8–15. It is stored row-major as 128 features `p0` … `p127`, where feature `r·16 + c` is row `r`, column `c`
/// of the 8 × 16 image; values are raw pixels 0 … 16, like `digits`.
///
/// | column        | kind                        | values                                      |
/// |---------------|-----------------------------|---------------------------------------------|
/// | `left`        | 10-class                    | the left digit 0 … 9                         |
/// | `right`       | 10-class                    | the right digit 0 … 9                        |
/// | `sum`         | regression or 19-class      | `left + right`, 0 … 18                       |
/// | `same_parity` | binary                      | 1 when `left % 2 == right % 2`, else 0       |
///
/// **No leakage.** A random split of such rows would put the same base image in training and validation rows.
/// So the base images are first split in two disjoint pools by the seed, and rows are drawn from one pool or the
/// other:
/// 1. `SeededRandom(seed: seed)` permutes the base images (Fisher–Yates); the first
///    `round(0.2 × baseCount)` of the permutation (at least 1 and at most `baseCount − 1`) form the held-out
///    pool, the rest the training pool (359 and 1,438 of the 1,797 digits).
/// 2. `validationCount = round(0.2 × rows)` (halves round away from zero). Rows `0 ..< rows − validationCount`
///    take both digits from the training pool, the last `validationCount` rows both from the held-out pool.
/// 3. Row by row, the same generator draws the left digit and then the right digit, each uniformly from its
///    row's pool (``SeededRandom/nextInt(below:)``), independently.
///
/// The last `validationCount` rows are the dataset's ``Dataset/validationRows``, which
/// ``splitTrainValidation(_:validationFraction:seed:)`` honours: no base image of a validation row appears in
/// any training row. The same `rows` and `seed` give the same data on every platform.
public enum MultiDigits {
    /// The share of base images held out for validation rows, and the share of rows built from them: 0.2.
    public static let heldOutFraction = 0.2
    /// The most rows `make` builds (1,000,000 rows of 128 floats is 512 MB).
    public static let maximumRows = 1_000_000
    /// The pixel count of one base digit (8 × 8).
    static let basePixels = 64

    /// Builds pairs of digits from a digits dataset (as ``BuiltinDataset/load(named:)`` returns for `"digits"`).
    ///
    /// - Parameters:
    ///   - base: at least 2 rows of 64 pixels with a label column `digit` (0 … 9) present on every row.
    ///   - rows: the number of pairs, 1 … ``maximumRows``.
    ///   - seed: drives the pools and the draws.
    /// - Throws: ``DataError`` when `base` is not such a dataset or `rows` is out of range.
    public static func make(from base: Dataset, rows: Int, seed: UInt64) throws -> Dataset {
        guard base.featureCount == basePixels, base.rowCount >= 2 else {
            throw DataError(message: "multidigits needs at least 2 base images of 64 pixels, got \(base.rowCount) "
                                + "rows of \(base.featureCount) features")
        }
        guard let digit = base.labels["digit"], digit.presentCount == base.rowCount,
              digit.values.allSatisfy({ $0 >= 0 && $0 <= 9 && $0 == $0.rounded() }) else {
            throw DataError(column: "digit", message: "multidigits needs a digit 0…9 on every base image")
        }
        guard rows >= 1, rows <= maximumRows else {
            throw DataError(message: "multidigits rows must be in 1…\(maximumRows), got \(rows)")
        }

        var random = SeededRandom(seed: seed)
        let order = random.permutation(base.rowCount)
        let heldOutCount = min(max(Int((heldOutFraction * Double(base.rowCount)).rounded()), 1), base.rowCount - 1)
        let heldOutPool = order[..<heldOutCount].sorted()
        let trainingPool = order[heldOutCount...].sorted()
        let validationCount = Int((heldOutFraction * Double(rows)).rounded())
        let trainCount = rows - validationCount

        let width = 2 * 8
        var features = [Float](repeating: 0, count: rows * width * 8)
        var left = [Float](), right = [Float]()
        left.reserveCapacity(rows)
        right.reserveCapacity(rows)
        for row in 0..<rows {
            let pool = row < trainCount ? trainingPool : heldOutPool
            let a = pool[random.nextInt(below: pool.count)]
            let b = pool[random.nextInt(below: pool.count)]
            for r in 0..<8 {
                for c in 0..<8 {
                    features[row * 128 + r * width + c] = base.features[a * basePixels + r * 8 + c]
                    features[row * 128 + r * width + 8 + c] = base.features[b * basePixels + r * 8 + c]
                }
            }
            left.append(digit.values[a])
            right.append(digit.values[b])
        }
        let labels: [String: LabelColumn] = [
            "left": LabelColumn(values: left),
            "right": LabelColumn(values: right),
            "sum": LabelColumn(values: zip(left, right).map { $0 + $1 }),
            "same_parity": LabelColumn(values: zip(left, right).map { Int($0) % 2 == Int($1) % 2 ? 1 : 0 }),
        ]
        return Dataset(checkedRowCount: rows, featureCount: 128, features: features,
                       featureNames: (0..<128).map { "p\($0)" }, labels: labels,
                       validationRows: Array(trainCount..<rows))
    }
}
