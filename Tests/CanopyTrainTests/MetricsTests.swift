import XCTest
@testable import CanopyTrain

/// Metrics against values from Scripts/metrics_reference.py (numpy, pairwise AUC) and by hand.
final class MetricsTests: XCTestCase {
    // Scripts/metrics_reference.py's classification case: four classes, class 3 predicted once, never right.
    let labels = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    let predictions = [0, 1, 0, 1, 1, 2, 3, 2, 2, 0]

    func testAccuracyAndMacroF1() {
        XCTAssertEqual(Metrics.accuracy(predictions: predictions, labels: labels), 0.6, accuracy: 1e-15)
        // By hand: F1 = 2/3, 4/7, 2/3 and 0 for classes 0…3; the mean is 10/21 (reference 0.47619047619047616).
        let f1 = Metrics.macroF1(predictions: predictions, labels: labels)
        print("macro-F1 \(f1), difference from reference \(abs(f1 - 0.47619047619047616))")
        XCTAssertEqual(f1, 10.0 / 21.0, accuracy: 1e-15)
        XCTAssertTrue(Metrics.accuracy(predictions: [], labels: []).isNaN)
        XCTAssertTrue(Metrics.macroF1(predictions: [], labels: []).isNaN)
        XCTAssertEqual(Metrics.macroF1(predictions: [1, 1], labels: [1, 1]), 1)
    }

    func testRocAUCWithTies() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.7, 0.2, 0.4]
        let positives = [0, 0, 1, 1, 1, 0, 0, 1].map { $0 == 1 }
        let auc = Metrics.rocAUC(scores: scores, positives: positives)
        print("AUC \(auc), difference from pairwise reference \(abs(auc - 0.6875))")
        XCTAssertEqual(auc, 0.6875, accuracy: 1e-15)
        XCTAssertEqual(Metrics.rocAUC(scores: [1, 2, 3], positives: [false, true, true]), 1)
        XCTAssertEqual(Metrics.rocAUC(scores: [3, 2, 1], positives: [false, true, true]), 0)
        XCTAssertEqual(Metrics.rocAUC(scores: [5, 5], positives: [false, true]), 0.5)
        XCTAssertTrue(Metrics.rocAUC(scores: [1, 2], positives: [true, true]).isNaN)
        XCTAssertTrue(Metrics.rocAUC(scores: [.nan, 2], positives: [false, true]).isNaN)
    }

    func testRegressionMetrics() {
        let p: [Float] = [2.5, 0.0, 2.0, 8.0, -1.5], t: [Float] = [3.0, -0.5, 2.0, 7.0, -1.0]
        XCTAssertEqual(Metrics.meanSquaredError(predictions: p, targets: t), 0.35, accuracy: 1e-15)
        XCTAssertEqual(Metrics.meanAbsoluteError(predictions: p, targets: t), 0.5, accuracy: 1e-15)
        let r2 = Metrics.rSquared(predictions: p, targets: t)
        print("R² \(r2), difference from reference \(abs(r2 - 0.9575242718446602))")
        XCTAssertEqual(r2, 0.9575242718446602, accuracy: 1e-14)
        // Constant targets: 1 for a perfect prediction, 0 otherwise (scikit-learn's force_finite).
        XCTAssertEqual(Metrics.rSquared(predictions: [2, 2], targets: [2, 2]), 1)
        XCTAssertEqual(Metrics.rSquared(predictions: [2, 3], targets: [2, 2]), 0)
        // Predicting the mean gives 0; large offsets do not lose precision (Welford).
        XCTAssertEqual(Metrics.rSquared(predictions: [1e6 + 2, 1e6 + 2], targets: [1e6 + 1, 1e6 + 3]), 0, accuracy: 1e-9)
        XCTAssertTrue(Metrics.meanSquaredError(predictions: [], targets: []).isNaN)
    }

    func testClassificationAccumulatorOverMaskedBatches() throws {
        var acc = try ClassificationAccumulator(classCount: 4)
        // Batch 1: logits whose arg max is the prediction; a padding row (mask 0) with a wrong label is ignored.
        func logits(_ classes: [Int]) -> [Float] {
            classes.flatMap { c in (0..<4).map { $0 == c ? 2 : Float($0) * 0.1 } }
        }
        try acc.add(scores: logits(Array(predictions[0..<6]) + [0]), labels: labels[0..<6].map(Float.init) + [3],
                    mask: [1, 1, 1, 1, 1, 1, 0])
        try acc.add(predictedClasses: Array(predictions[6...]), labels: labels[6...].map(Float.init))
        XCTAssertEqual(acc.count, 10)
        XCTAssertEqual(acc.accuracy, 0.6, accuracy: 1e-15)
        XCTAssertEqual(acc.macroF1, 10.0 / 21.0, accuracy: 1e-15)
        XCTAssertTrue(acc.rocAUC.isNaN, "AUC is for two classes")
        acc.reset()
        XCTAssertTrue(acc.accuracy.isNaN)
        XCTAssertThrowsError(try acc.add(scores: logits([0]), labels: [4])) { error in
            XCTAssertEqual("\(error)", "ClassificationAccumulator.add(scores:): row 0: label 4.0 is not a class index in 0..<4")
        }
    }

    func testBinaryAccumulatorAUCMatchesTheFunction() throws {
        let scores: [Float] = [0.1, 0.4, 0.35, 0.8, 0.4, 0.7, 0.2, 0.4]
        let targets: [Float] = [0, 0, 1, 1, 1, 0, 0, 1]
        var sigmoid = try ClassificationAccumulator(classCount: 2)
        try sigmoid.add(binaryScores: Array(scores[0..<5]), threshold: 0.5, labels: Array(targets[0..<5]))
        try sigmoid.add(binaryScores: Array(scores[5...]) + [0.9], threshold: 0.5, labels: Array(targets[5...]) + [0],
                        mask: [1, 1, 1, 0])
        XCTAssertEqual(sigmoid.rocAUC, 0.6875, accuracy: 1e-15)
        XCTAssertEqual(sigmoid.accuracy, 4.0 / 8.0, accuracy: 1e-15)  // predicted 1 only for 0.8 and 0.7
        // Two-logit softmax head: logit difference ranks like the probability.
        var softmax = try ClassificationAccumulator(classCount: 2)
        try softmax.add(scores: scores.flatMap { [0.3, 0.3 + $0] }, labels: targets)
        XCTAssertEqual(softmax.rocAUC, 0.6875, accuracy: 1e-15)
        XCTAssertThrowsError(try ClassificationAccumulator(classCount: 1))
        XCTAssertThrowsError(try softmax.add(scores: [1, 2, 3], labels: [0]))
    }

    func testRegressionAccumulatorOverMaskedBatches() throws {
        var acc = RegressionAccumulator()
        try acc.add(predictions: [2.5, 0.0, 99], targets: [3.0, -0.5, 0], mask: [1, 1, 0])
        try acc.add(predictions: [2.0, 8.0, -1.5], targets: [2.0, 7.0, -1.0])
        XCTAssertEqual(acc.count, 5)
        XCTAssertEqual(acc.meanSquaredError, 0.35, accuracy: 1e-15)
        XCTAssertEqual(acc.meanAbsoluteError, 0.5, accuracy: 1e-15)
        XCTAssertEqual(acc.rSquared, 0.9575242718446602, accuracy: 1e-14)
        XCTAssertThrowsError(try acc.add(predictions: [1], targets: [1, 2]))
    }
}

/// Precision, recall and top-k accuracy against values worked out by hand (scikit-learn's conventions).
final class PrecisionRecallTopKTests: XCTestCase {
    func testPrecisionAndRecallBinaryAndMacro() {
        // Binary: TP = 2 (rows 0, 3), FP = 1 (row 1), FN = 1 (row 2).
        let p = [1, 1, 0, 1, 0], y = [1, 0, 1, 1, 0]
        XCTAssertEqual(Metrics.precisionOrRecall(predictions: p, labels: y, recall: false, binary: true), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(Metrics.precisionOrRecall(predictions: p, labels: y, recall: true, binary: true), 2.0 / 3, accuracy: 1e-12)
        // Three classes: class 0 P 1/3 R 1/1; class 1 P 1/1 R 1/2; class 2 P 0/0 → 0, R 0/1 → 0.
        let p3 = [0, 0, 1, 0], y3 = [0, 1, 1, 2]
        XCTAssertEqual(Metrics.precisionOrRecall(predictions: p3, labels: y3, recall: false, binary: false),
                       (1.0 / 3 + 1 + 0) / 3, accuracy: 1e-12)
        XCTAssertEqual(Metrics.precisionOrRecall(predictions: p3, labels: y3, recall: true, binary: false),
                       (1 + 0.5 + 0) / 3, accuracy: 1e-12)
        XCTAssertTrue(Metrics.precisionOrRecall(predictions: [], labels: [], recall: false, binary: false).isNaN)
    }

    func testTopKCountsLabelsRankedBelowK() {
        XCTAssertEqual(Metrics.topKAccuracy(labelRanks: [0, 2, 3, 5, -1], k: 3), 2.0 / 5, accuracy: 1e-12)
        XCTAssertEqual(Metrics.topKAccuracy(labelRanks: [0, 2, 3, 5, -1], k: 5), 3.0 / 5, accuracy: 1e-12)
        XCTAssertTrue(Metrics.topKAccuracy(labelRanks: [], k: 3).isNaN)
    }
}
