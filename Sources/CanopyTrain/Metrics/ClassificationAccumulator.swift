/// Running classification metrics over batches: only rows whose mask is nonzero count.
///
/// Keeps a confusion matrix (true class × predicted class), from which ``accuracy`` and ``macroF1`` follow, and
/// for a two-class task the positive-class score of every row, for ``rocAUC``. The results equal
/// ``Metrics/accuracy(predictions:labels:)``, ``Metrics/macroF1(predictions:labels:)`` and
/// ``Metrics/rocAUC(scores:positives:)`` over all rows added.
///
/// Three ways to add a batch, by the kind of head:
/// - ``add(scores:labels:mask:)``: `B × C` logits or probabilities (softmax head); the prediction is the arg max
///   (the first on ties) and, when C = 2, the positive score is `s₁ − s₀` (same order as the softmax probability).
/// - ``add(binaryScores:threshold:labels:mask:)``: one score per row (sigmoid head): class 1 when the score is
///   above `threshold` (0 for logits, 0.5 for probabilities); the score itself ranks rows for the AUC.
/// - ``add(predictedClasses:positiveScores:labels:mask:)``: predictions made elsewhere.
///
/// Labels are class indices stored as floats (as in a ``Batch``); a counted row whose label is not an integer in
/// `0..<classCount` is an error.
public struct ClassificationAccumulator: Sendable {
    /// The number of classes, C ≥ 2.
    public let classCount: Int
    /// `confusion[y * classCount + ŷ]` counts rows of true class y predicted as ŷ.
    public private(set) var confusion: [Int]
    /// The number of rows counted.
    public private(set) var count = 0
    private var positiveScores: [Double] = []
    private var positiveLabels: [Bool] = []
    private var rowsWithoutScore = 0

    /// An empty accumulator for `classCount` classes.
    ///
    /// - Throws: ``MetricError`` when `classCount < 2`.
    public init(classCount: Int) throws {
        guard classCount >= 2 else {
            throw MetricError(place: "ClassificationAccumulator", message: "needs at least 2 classes, got \(classCount)")
        }
        self.classCount = classCount
        confusion = [Int](repeating: 0, count: classCount * classCount)
    }

    /// Adds a batch of per-class scores (logits or probabilities), `B × classCount`, row-major.
    ///
    /// - Throws: ``MetricError`` for mismatched lengths or an invalid label on a counted row.
    public mutating func add(scores: [Float], labels: [Float], mask: [Float]? = nil) throws {
        let c = classCount
        guard scores.count == labels.count * c else {
            throw MetricError(place: "ClassificationAccumulator.add(scores:)",
                              message: "\(scores.count) scores for \(labels.count) labels × \(c) classes")
        }
        try checkMask(mask, rows: labels.count, call: "add(scores:)")
        for i in labels.indices where mask.map({ $0[i] != 0 }) ?? true {
            var best = 0
            for j in 1..<c where scores[i * c + j] > scores[i * c + best] { best = j }
            let score = c == 2 ? Double(scores[i * c + 1]) - Double(scores[i * c]) : nil
            try addRow(label: labels[i], row: i, predicted: best, score: score, call: "add(scores:)")
        }
    }

    /// Adds a batch with one score per row for a two-class task: predicted class 1 when `score > threshold`.
    ///
    /// - Throws: ``MetricError`` when `classCount != 2`, for mismatched lengths or an invalid label.
    public mutating func add(binaryScores: [Float], threshold: Float = 0, labels: [Float], mask: [Float]? = nil) throws {
        let call = "add(binaryScores:)"
        guard classCount == 2 else {
            throw MetricError(place: "ClassificationAccumulator.\(call)",
                              message: "one score per row needs a two-class task, this one has \(classCount)")
        }
        guard binaryScores.count == labels.count else {
            throw MetricError(place: "ClassificationAccumulator.\(call)",
                              message: "\(binaryScores.count) scores for \(labels.count) labels")
        }
        try checkMask(mask, rows: labels.count, call: call)
        for i in labels.indices where mask.map({ $0[i] != 0 }) ?? true {
            let s = binaryScores[i]
            try addRow(label: labels[i], row: i, predicted: s > threshold ? 1 : 0, score: Double(s), call: call)
        }
    }

    /// Adds a batch of predicted classes, with the positive-class score of each row for a two-class task's AUC
    /// (`nil`: no scores, and then ``rocAUC`` is `nan`).
    ///
    /// - Throws: ``MetricError`` for mismatched lengths, a prediction outside `0..<classCount` or an invalid label.
    public mutating func add(predictedClasses: [Int], positiveScores: [Float]? = nil, labels: [Float],
                             mask: [Float]? = nil) throws {
        let call = "add(predictedClasses:)"
        guard predictedClasses.count == labels.count,
              positiveScores.map({ $0.count == labels.count }) ?? true else {
            throw MetricError(place: "ClassificationAccumulator.\(call)",
                              message: "\(predictedClasses.count) predictions, "
                                  + "\(positiveScores.map { "\($0.count)" } ?? "no") scores, \(labels.count) labels")
        }
        try checkMask(mask, rows: labels.count, call: call)
        for i in labels.indices where mask.map({ $0[i] != 0 }) ?? true {
            let p = predictedClasses[i]
            guard p >= 0, p < classCount else {
                throw MetricError(place: "ClassificationAccumulator.\(call)",
                                  message: "row \(i): predicted class \(p) is not in 0..<\(classCount)")
            }
            try addRow(label: labels[i], row: i, predicted: p, score: positiveScores.map { Double($0[i]) }, call: call)
        }
    }

    private func checkMask(_ mask: [Float]?, rows: Int, call: String) throws {
        if let mask, mask.count != rows {
            throw MetricError(place: "ClassificationAccumulator.\(call)",
                              message: "\(mask.count) mask values for \(rows) rows")
        }
    }

    private mutating func addRow(label: Float, row: Int, predicted: Int, score: Double?, call: String) throws {
        guard let y = classIndex(of: label, classCount: classCount) else {
            throw MetricError(place: "ClassificationAccumulator.\(call)",
                              message: "row \(row): label \(label) is not a class index in 0..<\(classCount)")
        }
        confusion[y * classCount + predicted] += 1
        count += 1
        if classCount == 2, let score {
            positiveScores.append(score)
            positiveLabels.append(y == 1)
        } else {
            rowsWithoutScore += 1
        }
    }

    /// Forgets every row.
    public mutating func reset() {
        for i in confusion.indices { confusion[i] = 0 }
        count = 0
        positiveScores.removeAll(keepingCapacity: true)
        positiveLabels.removeAll(keepingCapacity: true)
        rowsWithoutScore = 0
    }

    /// The share of counted rows predicted right; `nan` before any row.
    public var accuracy: Double {
        guard count > 0 else { return .nan }
        let correct = (0..<classCount).reduce(0) { $0 + confusion[$1 * classCount + $1] }
        return Double(correct) / Double(count)
    }

    /// Macro-F1 over the classes seen in labels or predictions (see ``Metrics/macroF1(predictions:labels:)``).
    public var macroF1: Double {
        let c = classCount
        let perClass = (0..<c).map { k -> (tp: Int, fp: Int, fn: Int) in
            let tp = confusion[k * c + k]
            let predicted = (0..<c).reduce(0) { $0 + confusion[$1 * c + k] }
            let actual = (0..<c).reduce(0) { $0 + confusion[k * c + $1] }
            return (tp, predicted - tp, actual - tp)
        }
        return Metrics.macroF1(perClass: perClass)
    }

    /// ROC AUC of class 1 against class 0 (see ``Metrics/rocAUC(scores:positives:)``). `nan` for more than two
    /// classes, when some counted row came without a score, or when only one class has been seen.
    public var rocAUC: Double {
        guard classCount == 2, rowsWithoutScore == 0 else { return .nan }
        return Metrics.rocAUC(scores: positiveScores, positives: positiveLabels)
    }
}
