/// An error in the values given to a metric accumulator: arrays of the wrong size or an invalid label.
public struct MetricError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The accumulator and call concerned, e.g. `ClassificationAccumulator.add(scores:)`.
    public var place: String
    /// What is wrong.
    public var message: String

    /// Creates an error about the call at `place`.
    public init(place: String, message: String) {
        self.place = place
        self.message = message
    }

    public var description: String { "\(place): \(message)" }
}

/// Running regression metrics over batches: only rows whose mask is nonzero count.
///
/// Sums are kept in double precision; the targets' spread uses Welford's update, so R² stays accurate when the
/// targets have a large mean. The results equal ``Metrics/meanSquaredError(predictions:targets:)``,
/// ``Metrics/meanAbsoluteError(predictions:targets:)`` and ``Metrics/rSquared(predictions:targets:)`` over all
/// rows added (see there for the conventions; each is `nan` before any row is added).
///
/// ```swift
/// var regression = RegressionAccumulator()
/// try regression.add(predictions: output, targets: batch.labels[k], mask: batch.masks[k])
/// log["mse"] = regression.meanSquaredError
/// ```
public struct RegressionAccumulator: Sendable {
    /// The number of rows counted.
    public private(set) var count = 0
    private var sumSquaredError = 0.0
    private var sumAbsoluteError = 0.0
    private var targetMean = 0.0
    private var targetM2 = 0.0  // Σ (y − ȳ)², by Welford's update.

    /// An empty accumulator.
    public init() {}

    /// Adds the rows of one batch whose mask is nonzero (padding and missing labels have mask 0).
    ///
    /// - Parameters:
    ///   - predictions: `B` predicted values.
    ///   - targets: `B` targets.
    ///   - mask: `B` values, 0 to leave a row out; `nil` counts every row.
    /// - Throws: ``MetricError`` when the arrays differ in length.
    public mutating func add(predictions: [Float], targets: [Float], mask: [Float]? = nil) throws {
        guard predictions.count == targets.count, mask.map({ $0.count == targets.count }) ?? true else {
            throw MetricError(place: "RegressionAccumulator.add",
                              message: "\(predictions.count) predictions, \(targets.count) targets, "
                                  + "\(mask.map { "\($0.count)" } ?? "no") mask values: the lengths must agree")
        }
        for i in targets.indices where mask.map({ $0[i] != 0 }) ?? true {
            addRow(prediction: Double(predictions[i]), target: Double(targets[i]))
        }
    }

    /// Adds every row; the caller has checked the lengths.
    mutating func addUnmasked(predictions: [Float], targets: [Float]) {
        precondition(predictions.count == targets.count,
                     "regression metric: \(predictions.count) predictions, \(targets.count) targets")
        for i in targets.indices { addRow(prediction: Double(predictions[i]), target: Double(targets[i])) }
    }

    private mutating func addRow(prediction: Double, target: Double) {
        let error = prediction - target
        sumSquaredError += error * error
        sumAbsoluteError += abs(error)
        count += 1
        let delta = target - targetMean
        targetMean += delta / Double(count)
        targetM2 += delta * (target - targetMean)
    }

    /// Forgets every row.
    public mutating func reset() { self = RegressionAccumulator() }

    /// Mean squared error over the rows counted.
    public var meanSquaredError: Double { count == 0 ? .nan : sumSquaredError / Double(count) }

    /// Mean absolute error over the rows counted.
    public var meanAbsoluteError: Double { count == 0 ? .nan : sumAbsoluteError / Double(count) }

    /// R² over the rows counted: 1 − SS_res / SS_tot; when SS_tot = 0, 1 if SS_res = 0 else 0 (scikit-learn).
    public var rSquared: Double {
        guard count > 0 else { return .nan }
        guard targetM2 > 0 else { return sumSquaredError == 0 ? 1 : 0 }
        return 1 - sumSquaredError / targetM2
    }
}
