/// Class weights that balance a classification task: `n / (classes · n_c)` for each class `c`.
///
/// scikit-learn's `compute_class_weight("balanced")`: `n` is the number of rows with a label in this column
/// and `n_c` the number of those whose label is `c`. Each class then carries the same total weight `n / classes`,
/// and when every class is equally common every weight is 1. Example: labels `[0, 0, 0, 1]` with 2 classes give
/// `[4/6, 4/2] = [0.667, 2]`.
///
/// Conventions: rows whose label is missing are not counted; a class with no rows gets weight 0 (it never
/// meets a weight anyway, and 0 rather than infinity keeps sums finite); a present label that is not a class
/// index in `0..<classes` is not counted in `n` or any `n_c` (the trainer checks labels against the task
/// before, so none reach here). No rows at all, or `classes ≤ 0`, give all zeros (an empty array for
/// `classes ≤ 0`).
///
/// - Parameters:
///   - column: the task's labels, class indices.
///   - classes: the number of classes (the head's width).
/// - Returns: `classes` weights.
public func balancedClassWeights(_ column: LabelColumn, classes: Int) -> [Float] {
    guard classes > 0 else { return [] }
    var counts = [Int](repeating: 0, count: classes)
    for (value, present) in zip(column.values, column.present) where present {
        guard let c = classIndex(of: value, classCount: classes) else { continue }
        counts[c] += 1
    }
    let n = Double(counts.reduce(0, +))
    return counts.map { $0 == 0 ? 0 : Float(n / (Double(classes) * Double($0))) }
}

/// Per-row loss weights for a batch: `into[i] = mask[i] · classWeights[labels[i]]`.
///
/// The trainer folds class weights into the loss mask. The masked mean of the per-row losses `ℓ_i`,
/// `Σ wᵢ·ℓᵢ / Σ wᵢ` with these weights, is then exactly PyTorch's `cross_entropy(weight: classWeights,
/// reduction: "mean")`: the sum is divided by `Σ classWeights[label]` over the rows that count, not by their
/// number. Rows with mask 0 (missing labels, padding) get weight 0 and their label is not read.
///
/// Fills the caller's array; allocates nothing.
///
/// - Parameters:
///   - labels: the batch's class indices, `B` values.
///   - mask: 1 where the row counts, 0 where not, `B` values (fractional masks scale the weight).
///   - classWeights: a weight per class (see ``balancedClassWeights(_:classes:)``).
///   - into: receives `B` weights; must already have `B` elements.
/// - Precondition: the three arrays have the same length, and every label of a row with a non-zero mask is a
///   class index in `0..<classWeights.count` (labels are checked when the data is loaded).
public func rowWeights(labels: [Float], mask: [Float], classWeights: [Float], into: inout [Float]) {
    precondition(labels.count == mask.count && into.count == labels.count,
                 "rowWeights: \(labels.count) labels, \(mask.count) mask values, \(into.count) outputs")
    for i in 0..<labels.count {
        if mask[i] == 0 {
            into[i] = 0
            continue
        }
        guard let c = classIndex(of: labels[i], classCount: classWeights.count) else {
            preconditionFailure("rowWeights: label \(labels[i]) of row \(i) is not a class index in 0..<\(classWeights.count)")
        }
        into[i] = mask[i] * classWeights[c]
    }
}
