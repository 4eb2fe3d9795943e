import Canopy
import Foundation
import XCTest

/// `input.normalize`: statistics fitted on the training rows only, used in training, and carried by the files so
/// that `evaluate` and `predict` transform rows exactly as training did.
final class NormalizationTests: ScratchTestCase {
    func testFittedStatisticsStandardiseAndRescale() throws {
        let data = try Dataset(rowCount: 4, featureCount: 3, features: [1, 10, 5, 3, 20, 5, 5, 30, 5, 7, 40, 5],
                               featureNames: ["a", "b", "c"], labels: [:])
        var input = InputSpec(shape: [3], scale: 0.5)
        XCTAssertEqual(FeatureTransform.fitted(for: input, on: data), .scaling(0.5, count: 3))
        input.normalize = .standard
        let standard = FeatureTransform.fitted(for: input, on: data)
        XCTAssertEqual(standard.offset, [4, 25, 5])
        XCTAssertEqual(standard.factor[0], 1 / Float(5).squareRoot(), accuracy: 1e-6)   // population variance 5
        XCTAssertEqual(standard.factor[2], 1, "a constant feature is only centred")
        input.normalize = .minmax
        let minmax = FeatureTransform.fitted(for: input, on: data)
        XCTAssertEqual(minmax.offset, [1, 10, 5])
        XCTAssertEqual(minmax.factor, [1.0 / 6, 1.0 / 30, 1])
        let back = try FeatureTransform(metadata: minmax.metadata, featureCount: 3, file: "f")
        XCTAssertEqual(back, minmax, "nine significant digits read back exactly")
    }

    func testANormalisedModelTrainsAndEvaluateAndPredictUseTheSavedStatistics() throws {
        // The digits' pixels with one column blown up by 10⁴: without normalisation it would dominate.
        let lines = try String(contentsOf: TestModels.examples.appendingPathComponent("data/digits-sample.csv"),
                               encoding: .utf8).split(separator: "\n").map(String.init)
        let scaled = [lines[0]] + lines.dropFirst().map { line -> String in
            var cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            cells[20] = String(Float(cells[20])! * 10_000 + 3_000)
            return cells.joined(separator: ",")
        }
        try write(scaled.joined(separator: "\n") + "\n", to: "wide.csv")
        let model = try write("""
            name: normalised
            data: {source: wide.csv, validation: 0.25, seed: 2}
            input: {shape: [64], normalize: standard}
            shared: [{dense: 32}, relu]
            tasks:
              digit: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy]}
              parity: {head: [{dense: 1}], loss: binary_cross_entropy, metrics: [accuracy]}
            train: {optimizer: {adam: {lr: 0.01}}, batch_size: 32, epochs: 8, seed: 1}
            """)
        let trained = try canopy("train", model, "--backend", "cpu", "--out", path("run"))
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let last = try XCTUnwrap(try metricsLines(path("run")).last {
            $0["split"] as? String == "validation" && $0["task"] as? String == "digit"
        })
        XCTAssertGreaterThan(last["accuracy"] as? Double ?? 0, 0.7)
        let parameters = try SafeTensorsFile.read(from: URL(fileURLWithPath: path("run") + "/parameters.safetensors"))
        XCTAssertNotNil(parameters.metadata[FeatureTransform.offsetKey])

        let evaluated = try canopy("evaluate", model, "--backend", "cpu", "--checkpoint", path("run") + "/parameters.safetensors")
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        let loss = String(format: "%.4f", last["loss"] as! Double)
        XCTAssertTrue(evaluated.stdout.contains("loss \(loss)"), "validation loss \(loss) not in:\n\(evaluated.stdout)")

        // A parameters file without the statistics cannot be used by a normalising model.
        var bare = parameters
        bare.metadata[FeatureTransform.offsetKey] = nil
        try bare.write(to: URL(fileURLWithPath: path("bare.safetensors")))
        assertRefused(try canopy("predict", model, "--backend", "cpu", "--checkpoint", path("bare.safetensors")),
                      "bare.safetensors", "input_offset")
    }
}
