/// Evaluation metrics over whole arrays of predictions, computed in double precision.
///
/// The conventions follow scikit-learn's so that numbers can be compared with published results. A metric that is
/// undefined for its input (no rows; an AUC with only one class present) is `Double.nan`, which ``MetricsLog``
/// writes as `null`. For batches with masks, use ``ClassificationAccumulator`` and ``RegressionAccumulator``,
/// which call these functions.
public enum Metrics {
    // MARK: Classification

    /// The share of rows whose predicted class equals the label: `#{i : ŷᵢ = yᵢ} / n`. `nan` when `n = 0`.
    ///
    /// - Precondition: `predictions.count == labels.count`.
    public static func accuracy(predictions: [Int], labels: [Int]) -> Double {
        precondition(predictions.count == labels.count, "accuracy: \(predictions.count) predictions, \(labels.count) labels")
        guard !labels.isEmpty else { return .nan }
        let correct = zip(predictions, labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        return Double(correct) / Double(labels.count)
    }

    /// Macro-averaged F1: the unweighted mean of the per-class F1 scores, as scikit-learn's
    /// `f1_score(y, ŷ, average="macro")`.
    ///
    /// The classes averaged over are those that occur in the labels or in the predictions (a class that is never
    /// seen nor predicted does not count). For class c, `F1_c = 2·TP / (2·TP + FP + FN)`, which equals the
    /// harmonic mean of precision and recall and is 0 for a class that is predicted but never right or present but
    /// never predicted (scikit-learn's `zero_division` result). `nan` when `n = 0`.
    ///
    /// - Precondition: `predictions.count == labels.count`.
    public static func macroF1(predictions: [Int], labels: [Int]) -> Double {
        precondition(predictions.count == labels.count, "macroF1: \(predictions.count) predictions, \(labels.count) labels")
        let counts = classCounts(predictions: predictions, labels: labels)
        // Sum in class order so that the result does not depend on the dictionary's iteration order.
        return macroF1(perClass: counts.keys.sorted().map { counts[$0]! })
    }

    /// Precision or recall, as scikit-learn's `precision_score`/`recall_score`: with `binary`, of class 1
    /// (`TP/(TP+FP)`, `TP/(TP+FN)`); otherwise the unweighted mean over the classes that occur in the labels or the
    /// predictions. A class with a zero denominator scores 0 (scikit-learn's `zero_division` result). `nan` when
    /// `n = 0`.
    ///
    /// - Precondition: `predictions.count == labels.count`.
    public static func precisionOrRecall(predictions: [Int], labels: [Int], recall: Bool, binary: Bool) -> Double {
        precondition(predictions.count == labels.count, "precision: \(predictions.count) predictions, \(labels.count) labels")
        guard !labels.isEmpty else { return .nan }
        let counts = classCounts(predictions: predictions, labels: labels)
        func score(_ c: (tp: Int, fp: Int, fn: Int)) -> Double {
            let denominator = c.tp + (recall ? c.fn : c.fp)
            return denominator == 0 ? 0 : Double(c.tp) / Double(denominator)
        }
        if binary { return score(counts[1] ?? (0, 0, 0)) }
        let classes = counts.keys.sorted()
        return classes.reduce(0) { $0 + score(counts[$1]!) } / Double(classes.count)
    }

    /// The share of rows whose label ranks below `k`, given each row's rank of its label (how many logits are
    /// strictly greater than the label's; -1 for a row whose label is no class). `nan` when there are no rows.
    public static func topKAccuracy(labelRanks: [Int], k: Int) -> Double {
        guard !labelRanks.isEmpty else { return .nan }
        return Double(labelRanks.filter { $0 >= 0 && $0 < k }.count) / Double(labelRanks.count)
    }

    /// True positives, false positives and false negatives of every class that occurs in the labels or the
    /// predictions.
    static func classCounts(predictions: [Int], labels: [Int]) -> [Int: (tp: Int, fp: Int, fn: Int)] {
        var counts = [Int: (tp: Int, fp: Int, fn: Int)]()
        for (p, y) in zip(predictions, labels) {
            if p == y {
                counts[y, default: (0, 0, 0)].tp += 1
            } else {
                counts[p, default: (0, 0, 0)].fp += 1
                counts[y, default: (0, 0, 0)].fn += 1
            }
        }
        return counts
    }

    /// Macro-F1 from per-class counts; classes with no TP, FP or FN are skipped. `nan` if none remain.
    static func macroF1(perClass: [(tp: Int, fp: Int, fn: Int)]) -> Double {
        var total = 0.0, classes = 0
        for c in perClass {
            let denominator = 2 * c.tp + c.fp + c.fn
            guard denominator > 0 else { continue }
            total += Double(2 * c.tp) / Double(denominator)
            classes += 1
        }
        return classes == 0 ? .nan : total / Double(classes)
    }

    /// The area under the ROC curve for a binary task: the probability that a random positive row scores higher
    /// than a random negative row, ties counting one half (the Mann–Whitney U statistic over `n₊·n₋`).
    ///
    /// Computed from ranks: sort all scores, give tied scores their average rank (1-based), then
    /// `AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊ · n₋)` where R₊ is the sum of the positives' ranks. This equals
    /// scikit-learn's `roc_auc_score` (trapezoidal area, which treats ties the same way). Scores may be
    /// probabilities, logits or any monotone transform of them: only their order matters. `nan` when there is no
    /// positive or no negative row, or when a score is NaN.
    ///
    /// - Precondition: `scores.count == positives.count`.
    public static func rocAUC(scores: [Double], positives: [Bool]) -> Double {
        precondition(scores.count == positives.count, "rocAUC: \(scores.count) scores, \(positives.count) labels")
        let n = scores.count
        let positiveCount = positives.reduce(0) { $0 + ($1 ? 1 : 0) }
        let negativeCount = n - positiveCount
        guard positiveCount > 0, negativeCount > 0, !scores.contains(where: \.isNaN) else { return .nan }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var positiveRankSum = 0.0
        var start = 0
        while start < n {
            var end = start + 1
            while end < n, scores[order[end]] == scores[order[start]] { end += 1 }
            // Rows start..<end are tied and share the mean of ranks start+1 … end.
            let averageRank = Double(start + 1 + end) / 2
            for k in start..<end where positives[order[k]] { positiveRankSum += averageRank }
            start = end
        }
        let p = Double(positiveCount), q = Double(negativeCount)
        return (positiveRankSum - p * (p + 1) / 2) / (p * q)
    }

    // MARK: Regression

    /// Mean squared error `Σ (ŷᵢ − yᵢ)² / n`. `nan` when `n = 0`.
    ///
    /// - Precondition: `predictions.count == targets.count` (likewise for the two functions below).
    public static func meanSquaredError(predictions: [Float], targets: [Float]) -> Double {
        var accumulator = RegressionAccumulator()
        accumulator.addUnmasked(predictions: predictions, targets: targets)
        return accumulator.meanSquaredError
    }

    /// Mean absolute error `Σ |ŷᵢ − yᵢ| / n`. `nan` when `n = 0`.
    public static func meanAbsoluteError(predictions: [Float], targets: [Float]) -> Double {
        var accumulator = RegressionAccumulator()
        accumulator.addUnmasked(predictions: predictions, targets: targets)
        return accumulator.meanAbsoluteError
    }

    /// The coefficient of determination `R² = 1 − SS_res / SS_tot`, with `SS_res = Σ (yᵢ − ŷᵢ)²` and
    /// `SS_tot = Σ (yᵢ − ȳ)²`.
    ///
    /// When the targets are all equal (`SS_tot = 0`) the ratio is undefined; as scikit-learn's `r2_score` (with
    /// its default `force_finite=True`) it is then 1 for a perfect prediction (`SS_res = 0`) and 0 otherwise.
    /// `nan` when `n = 0`. R² is 0 for always predicting the mean and negative for worse.
    public static func rSquared(predictions: [Float], targets: [Float]) -> Double {
        var accumulator = RegressionAccumulator()
        accumulator.addUnmasked(predictions: predictions, targets: targets)
        return accumulator.rSquared
    }
}
