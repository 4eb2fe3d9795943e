import Foundation
import XCTest
@testable import CanopyTrain

/// Balanced class weights (scikit-learn's "balanced") and per-row loss weights (PyTorch's weighted cross-entropy).
final class ClassWeightsTests: XCTestCase {
    func testBalancedWeightsMatchScikitLearnsFormula() {
        // Present labels 0,0,0,1,2,2 (n = 6), 4 classes: n / (4 · n_c) = [6/12, 6/4, 6/8] and 0 for the empty
        // class 3. The two rows without a label are not counted.
        let column = LabelColumn(values: [0, 1, 0, 2, 0, 1, 2, 3], present: [true, true, true, true, true, false, true, false])
        let weights = balancedClassWeights(column, classes: 4)
        let expected: [Float] = [0.5, 1.5, 0.75, 0]
        let largest = zip(weights, expected).map { abs($0 - $1) }.max() ?? .infinity
        print("balanced class weights \(weights), largest difference \(largest)")
        XCTAssertEqual(weights.count, 4)
        XCTAssertLessThanOrEqual(largest, 1e-7)
        // Each present class carries the same total weight n / classes = 1.5.
        XCTAssertEqual(weights[0] * 3, 1.5, accuracy: 1e-6)
        XCTAssertEqual(weights[1] * 1, 1.5, accuracy: 1e-6)
        XCTAssertEqual(weights[2] * 2, 1.5, accuracy: 1e-6)
    }

    func testBalancedWeightsEdgeCases() {
        XCTAssertEqual(balancedClassWeights(LabelColumn(values: [0, 1, 1, 0]), classes: 2), [1, 1],
                       "equally common classes weigh 1")
        XCTAssertEqual(balancedClassWeights(LabelColumn(values: [1, 1], present: [false, false]), classes: 3), [0, 0, 0],
                       "no labelled rows: all zero")
        XCTAssertEqual(balancedClassWeights(LabelColumn(values: [0, 1]), classes: 0), [])
        // Labels outside 0..<classes (or fractional) are not counted.
        XCTAssertEqual(balancedClassWeights(LabelColumn(values: [0, 0, 1, 5, 0.5]), classes: 2), [0.75, 1.5])
    }

    func testRowWeightsFoldClassWeightsIntoTheMask() {
        var out = [Float](repeating: -1, count: 5)
        rowWeights(labels: [0, 2, 1, 7, 1], mask: [1, 1, 1, 0, 0.5], classWeights: [1, 2, 0.5], into: &out)
        XCTAssertEqual(out, [1, 0.5, 2, 0, 1], "masked-out rows weigh 0 whatever their label")
    }

    /// The masked mean with row weights equals PyTorch's `cross_entropy(logits, labels, weight=[1, 2, 0.5])`
    /// (reduction "mean": Σ w[yᵢ]·ℓᵢ / Σ w[yᵢ]). Reference 1.513949167293917 computed with numpy from that
    /// formula (per-row losses 0.40760596, 0.15200838, 2.40760596); the fourth row is padding.
    func testWeightedMaskedMeanIsPyTorchsWeightedCrossEntropy() {
        let logits: [[Double]] = [[2, 1, 0], [0.5, 0.5, 3], [1, -1, 0], [0, 0, 0]]
        let labels: [Float] = [0, 2, 1, 0], mask: [Float] = [1, 1, 1, 0]
        var weights = [Float](repeating: 0, count: 4)
        rowWeights(labels: labels, mask: mask, classWeights: [1, 2, 0.5], into: &weights)
        var weighted = 0.0, total = 0.0
        for (i, row) in logits.enumerated() {
            let top = row.max()!
            let logSum = top + log(row.map { exp($0 - top) }.reduce(0, +))
            let loss = logSum - row[Int(labels[i])]
            weighted += Double(weights[i]) * loss
            total += Double(weights[i])
        }
        let mean = weighted / total
        print("weighted cross-entropy \(mean), difference from the reference \(abs(mean - 1.513949167293917))")
        XCTAssertEqual(mean, 1.513949167293917, accuracy: 1e-6)
    }
}
