import CanopyCore
import CanopyModel

/// Gathers one task's loss and predictions batch by batch, then scores them with the task's metrics.
///
/// Only rows whose mask is 1 count. The loss is averaged over labelled rows across batches (each batch's mean
/// weighted by its labelled-row count), which equals the mean over all labelled rows.
struct TaskAccumulator {
    let task: TaskGraph
    private var lossSum: Double = 0
    /// The loss normaliser: labelled rows, or their class weights' sum when class weights fold into the mask.
    private var lossWeight: Double = 0
    private var labelled = 0
    /// Classification: predicted class and the positive-class score; regression: predicted value.
    private var predictedClasses: [Int] = []
    private var positiveScores: [Double] = []
    private var predictedValues: [Float] = []
    /// Cross-entropy: how many logits are strictly greater than the label's (-1 for a label that is no class).
    private var labelRanks: [Int] = []
    private var labels: [Float] = []

    init(task: TaskGraph) {
        self.task = task
    }

    /// Adds one batch: the task's reading for it (loss, labelled count, outputs) and the batch's labels and mask
    /// for this task (`labels`, `mask`, of which the first `realRowCount` rows are real).
    mutating func add(_ reading: TaskReadings.Reading, labels values: [Float], mask: [Float], realRowCount: Int) {
        lossSum += Double(reading.loss) * Double(reading.labelled)
        lossWeight += Double(reading.labelled)
        let outputs = reading.outputs
        let width = task.width, first = outputs.startIndex
        for row in 0..<realRowCount where mask[row] != 0 {
            labelled += 1
            let out = outputs[(first + row * width)..<(first + (row + 1) * width)]
            labels.append(values[row])
            switch task.spec.loss {
            case .crossEntropy:
                var best = out.startIndex
                for j in out.indices where out[j] > out[best] { best = j }
                predictedClasses.append(best - out.startIndex)
                if width == 2 { positiveScores.append(Double(out[out.startIndex + 1] - out[out.startIndex])) }
                if let label = classIndex(of: values[row], classCount: width) {
                    let own = out[out.startIndex + label]
                    labelRanks.append(out.reduce(0) { $0 + ($1 > own ? 1 : 0) })
                } else {
                    labelRanks.append(-1)
                }
            case .binaryCrossEntropy:
                predictedClasses.append(out[out.startIndex] > 0 ? 1 : 0)
                positiveScores.append(Double(out[out.startIndex]))
            case .mse, .huber, .l1:
                predictedValues.append(out[out.startIndex])
            }
        }
    }

    /// The task's loss and metrics so far.
    ///
    /// Without any labelled row (a validation split that lacks this task's labels) there is nothing to score: the
    /// loss and every metric are NaN, stated here rather than left to a division by zero, and ``TaskScore``'s
    /// `labelledRows` is 0 (``ScoreTable`` then prints "no labelled rows"; the metrics log writes `null`).
    func score() -> TaskScore {
        guard labelled > 0 else {
            return TaskScore(task: task.spec.name, loss: .nan, labelledRows: 0,
                             metrics: task.spec.metrics.map { ($0.rawValue, .nan) })
        }
        // The class each label stands for, converted without trapping whatever the label (labels are checked when
        // data is loaded, but a caller may pass any Dataset): for cross-entropy its class index, -1 (matching no
        // prediction) if it is none; for a binary target in [0, 1], class 1 only for 1 (as truncation gave).
        let width = task.width
        let truth: [Int]
        switch task.spec.loss {
        case .crossEntropy: truth = labels.map { classIndex(of: $0, classCount: width) ?? -1 }
        case .binaryCrossEntropy: truth = labels.map { $0 >= 1 ? 1 : 0 }
        case .mse, .huber, .l1: truth = labels.map { _ in -1 }
        }
        let metrics = task.spec.metrics.map { kind -> (name: String, value: Double) in
            switch kind {
            case .accuracy: return (kind.rawValue, Metrics.accuracy(predictions: predictedClasses, labels: truth))
            case .macroF1: return (kind.rawValue, Metrics.macroF1(predictions: predictedClasses, labels: truth))
            case .auc: return (kind.rawValue, Metrics.rocAUC(scores: positiveScores, positives: labels.map { $0 >= 0.5 }))
            case .precision, .recall:
                let binary = task.spec.loss == .binaryCrossEntropy || width == 2
                return (kind.rawValue, Metrics.precisionOrRecall(predictions: predictedClasses, labels: truth,
                                                                 recall: kind == .recall, binary: binary))
            case .top3Accuracy, .top5Accuracy:
                return (kind.rawValue, Metrics.topKAccuracy(labelRanks: labelRanks, k: kind.topK ?? 1))
            case .mse: return (kind.rawValue, Metrics.meanSquaredError(predictions: predictedValues, targets: labels))
            case .mae: return (kind.rawValue, Metrics.meanAbsoluteError(predictions: predictedValues, targets: labels))
            case .r2: return (kind.rawValue, Metrics.rSquared(predictions: predictedValues, targets: labels))
            }
        }
        return TaskScore(task: task.spec.name, loss: lossWeight > 0 ? lossSum / lossWeight : .nan,
                         labelledRows: labelled, metrics: metrics)
    }
}

extension TaskAccumulator {
    /// This accumulator with every process's rows: loss sums and counts added, predictions and labels gathered in
    /// rank order (the metrics do not depend on row order). Itself in a one-process group; a collective.
    func merged(over group: ProcessGroup) throws -> TaskAccumulator {
        guard group.size > 1 else { return self }
        var merged = self
        let sums = try group.allreduceSum([lossSum, lossWeight, Double(labelled)])
        merged.lossSum = sums[0]
        merged.lossWeight = sums[1]
        merged.labelled = Int(sums[2])
        merged.predictedClasses = try group.allgather(predictedClasses.map(Float.init)).joined().map { Int($0) }
        merged.labelRanks = try group.allgather(labelRanks.map(Float.init)).joined().map { Int($0) }
        merged.labels = Array(try group.allgather(labels).joined())
        merged.predictedValues = Array(try group.allgather(predictedValues).joined())
        merged.positiveScores = DoubleBits.decode(Array(try group.allgather(DoubleBits.encode(positiveScores)).joined()))
        return merged
    }
}
