import CanopyCore
import XCTest
@testable import CanopyModel

/// The losses `huber` and `l1` and the settings `{huber: {delta}}` and `{binary_cross_entropy: {pos_weight}}`:
/// both model-file forms, their defaults, the graphs they build, and placed errors.
final class LossSettingsTests: XCTestCase {
    func task(_ text: String, _ name: String = "value") throws -> TaskSpec {
        try XCTUnwrap(try parseModel(text).tasks.first { $0.name == name })
    }

    func testBareWordsAndMappingsReadTheSameLoss() throws {
        for (written, loss, settings) in [
            ("loss: huber", LossKind.huber, LossSettings()),
            ("loss: {huber: {delta: 0.5}}", .huber, LossSettings(delta: 0.5)),
            ("loss: {huber: null}", .huber, LossSettings()),
            ("loss: l1", .l1, LossSettings()),
            ("loss: {l1: null}", .l1, LossSettings()),
        ] {
            let spec = try task(base(replacing: "loss: mse}", with: written + "}"))
            XCTAssertEqual(spec.loss, loss, written)
            XCTAssertEqual(spec.lossSettings, settings, written)
            XCTAssertEqual(spec.metrics, [.mse], "regression losses report mse by default")
            XCTAssertFalse(spec.loss.isClassification)
        }
        let binary = base(replacing: "  value: {head: [{dense: 1}], loss: mse}",
                          with: "  value: {head: [{dense: 1}], loss: {binary_cross_entropy: {pos_weight: 3.0}}}")
        XCTAssertEqual(try task(binary).loss, .binaryCrossEntropy)
        XCTAssertEqual(try task(binary).lossSettings.positiveWeight, 3)
    }

    func testRegressionMetricsFitTheNewLosses() throws {
        let spec = try task(base(replacing: "loss: mse}", with: "loss: l1, metrics: [mse, mae, r2]}"))
        XCTAssertEqual(spec.metrics, [.mse, .mae, .r2])
        assertModelError(base(replacing: "loss: mse}", with: "loss: huber, metrics: [accuracy]}"), line: 14,
                         keyPath: "tasks.value.metrics[0]", "accuracy")
    }

    func testHeadWidthMustBeOne() {
        for loss in ["huber", "l1"] {
            assertModelError(base(replacing: "{head: [{dense: 1}], loss: mse}", with: "{head: [{dense: 2}], loss: \(loss)}"),
                             line: 14, keyPath: "tasks.value.head[0]", "a \(loss) head predicts one label column",
                             "got 2")
        }
    }

    func testPlacedErrors() {
        assertModelError(base(replacing: "loss: mse}", with: "loss: huberr}"), line: 14, keyPath: "tasks.value.loss",
                         "unknown loss 'huberr'", "did you mean 'huber'?")
        assertModelError(base(replacing: "loss: mse}", with: "loss: {huber: {delta: 0}}}"), line: 14,
                         keyPath: "tasks.value.loss.huber.delta", "delta must be a finite number > 0, got 0.0")
        assertModelError(base(replacing: "loss: mse}", with: "loss: {huber: {delta: -1}}}"), line: 14,
                         keyPath: "tasks.value.loss.huber.delta", "delta must be a finite number > 0")
        assertModelError(base(replacing: "loss: mse}", with: "loss: {huber: {delt: 2}}}"), line: 14,
                         keyPath: "tasks.value.loss.huber.delt", "unknown key 'delt'", "did you mean 'delta'?")
        assertModelError(base(replacing: "loss: mse}", with: "loss: {huber: {pos_weight: 2}}}"), line: 14,
                         keyPath: "tasks.value.loss.huber.pos_weight", "unknown key 'pos_weight'")
        assertModelError(base(replacing: "loss: mse}", with: "loss: {mse: {delta: 2}}}"), line: 14,
                         keyPath: "tasks.value.loss.mse", "'mse' takes no settings", "loss: mse")
        assertModelError(base(replacing: "loss: mse}", with: "loss: {l1: {delta: 2}}}"), line: 14,
                         keyPath: "tasks.value.loss.l1", "'l1' takes no settings")
        assertModelError(base(replacing: "loss: mse}", with: "loss: {huber: {delta: 1}, l1: null}}"), line: 14,
                         keyPath: "tasks.value.loss", "name exactly one loss", "found 2 keys")
        assertModelError(base(replacing: "loss: cross_entropy}", with: "loss: {cross_entropy: {pos_weight: 2}}}"),
                         line: 13, keyPath: "tasks.digit.loss.cross_entropy", "'cross_entropy' takes no settings")
        for (bad, message) in [("0", "pos_weight must be a finite number > 0"), ("-2", "pos_weight must be a finite number > 0"),
                               (".inf", "infinity and NaN are not allowed"), (".nan", "infinity and NaN are not allowed")] {
            assertModelError(base(replacing: "  value: {head: [{dense: 1}], loss: mse}",
                                  with: "  value: {head: [{dense: 1}], loss: {binary_cross_entropy: {pos_weight: \(bad)}}}"),
                             line: 14, keyPath: "tasks.value.loss.binary_cross_entropy.pos_weight", message)
        }
    }

    /// The default settings build exactly the graphs of the plain losses; other settings build the new ops.
    func testGraphsUseTheRightOps() throws {
        func lossOps(_ text: String) throws -> [Op] {
            try ModelGraph.build(try parseModel(text), batchSize: 3).graph.nodes.map(\.op).filter {
                switch $0 {
                case .meanSquaredError, .binaryCrossEntropy, .regressionLoss, .weightedBinaryCrossEntropy: return true
                default: return false
                }
            }
        }
        XCTAssertEqual(try lossOps(baseYAML), [.meanSquaredError])
        XCTAssertEqual(try lossOps(base(replacing: "loss: mse}", with: "loss: l1}")), [.regressionLoss(.l1)])
        XCTAssertEqual(try lossOps(base(replacing: "loss: mse}", with: "loss: huber}")), [.regressionLoss(.huber(delta: 1))])
        XCTAssertEqual(try lossOps(base(replacing: "loss: mse}", with: "loss: {huber: {delta: 0.25}}}")),
                       [.regressionLoss(.huber(delta: 0.25))])
        let bce = "  value: {head: [{dense: 1}], loss: "
        XCTAssertEqual(try lossOps(base(replacing: "  value: {head: [{dense: 1}], loss: mse}", with: bce + "binary_cross_entropy}")),
                       [.binaryCrossEntropy])
        XCTAssertEqual(try lossOps(base(replacing: "  value: {head: [{dense: 1}], loss: mse}",
                                        with: bce + "{binary_cross_entropy: {pos_weight: 1}}}")), [.binaryCrossEntropy])
        XCTAssertEqual(try lossOps(base(replacing: "  value: {head: [{dense: 1}], loss: mse}",
                                        with: bce + "{binary_cross_entropy: {pos_weight: 2.5}}}")),
                       [.weightedBinaryCrossEntropy(posWeight: 2.5)])
    }
}
