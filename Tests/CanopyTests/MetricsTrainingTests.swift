import Canopy
import Foundation
import XCTest

/// Precision, recall and top-k accuracy from a model file, and the rules that keep them to tasks they fit.
final class MetricsTrainingTests: ScratchTestCase {
    func testPrecisionRecallAndTopKAreReportedAndFitTheirTasks() throws {
        let text = Self.smallModel(train: "optimizer: {adam: {lr: 0.01}}, batch_size: 64, epochs: 2, seed: 1")
            .replacingOccurrences(of: "metrics: [accuracy]}", with: "metrics: [accuracy, precision, recall, top3_accuracy, top5_accuracy]}")
        let spec = try ModelFile.parse(text, fileName: "m.yaml", baseDirectory: nil)
        let score = try Trainer(spec: spec, backend: CPUBackend()).train().last!.validation[0]
        let accuracy = try XCTUnwrap(score.metric("accuracy")), top3 = try XCTUnwrap(score.metric("top3_accuracy"))
        let top5 = try XCTUnwrap(score.metric("top5_accuracy"))
        XCTAssertLessThanOrEqual(accuracy, top3)
        XCTAssertLessThanOrEqual(top3, top5)
        XCTAssertGreaterThan(top5, 0.9)
        for name in ["precision", "recall"] {
            let value = try XCTUnwrap(score.metric(name))
            XCTAssertTrue(value > 0.5 && value <= 1, "\(name) \(value)")
        }

        let binary = Self.smallModel().replacingOccurrences(of: "{head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy]}",
                                                            with: "{head: [{dense: 2}], loss: cross_entropy, metrics: [top3_accuracy]}")
        assertRefused(try canopy("check", try write(binary, to: "binary.yaml")), "binary.yaml:", "tasks.digit.metrics[0]",
                      "top3_accuracy needs more than 3 classes")
        let regression = Self.smallModel().replacingOccurrences(of: "metrics: [mae]", with: "metrics: [precision]")
        assertRefused(try canopy("check", try write(regression, to: "regression.yaml")), "metric 'precision' does not fit a regression task")
    }
}
