import CanopyModel
@testable import CanopyTrain
import XCTest

/// Each weighting method's type on the host: where its weights start, how they move, what it saves, and that a
/// checkpoint written with every method's tensors (as Canopy wrote them before each method had its own type)
/// still restores, all or nothing.
final class WeightingMethodTests: XCTestCase {
    private static let methods: [WeightingSpec] = [.fixed, .uncertainty, .gradNorm(alpha: 1.5, learningRate: 0.025),
                                                   .dynamicWeightAverage(temperature: 2), .pcGrad, .mgda]
    private let fileWeights: [Float] = [1, 0.5, 2]

    private func weighting(_ spec: WeightingSpec) -> TaskWeighting {
        TaskWeighting(spec, fileWeights: fileWeights, learningRate: 0.01)
    }

    /// Every state tensor of every method, in the layout Canopy saved for all methods alike: weights,
    /// log-variances, the scalar Adam, GradNorm's first losses and DWA's two epochs.
    private func legacyState() -> [String: [Float]] {
        var adam = ScalarAdam(count: 3, learningRate: 0.01)
        _ = adam.update([0.1, 0.2, 0.3], gradient: [1, -2, 0.5])
        return ["weighting.weights": DoubleBits.encode([0.75, 1.5, 0.75]),
                "weighting.log_variances": DoubleBits.encode([0.25, -0.5, 1e-3]),
                "weighting.adam": adam.state,
                "weighting.initial_losses": DoubleBits.encode([2.3, 0.7, 0.01]),
                "weighting.epoch_losses.0": DoubleBits.encode([1.5, 0.6, 0.02]),
                "weighting.epoch_losses.1": DoubleBits.encode([1.25, 0.55, 0.015])]
    }

    func testEachMethodStartsFromItsOwnWeights() {
        XCTAssertTrue(weighting(.fixed).method is FixedWeighting)
        XCTAssertTrue(weighting(.uncertainty).method is UncertaintyWeighting)
        XCTAssertTrue(weighting(.gradNorm(alpha: 1, learningRate: 0.1)).method is GradNormWeighting)
        XCTAssertTrue(weighting(.dynamicWeightAverage(temperature: 2)).method is DynamicWeightAverage)
        XCTAssertTrue(weighting(.pcGrad).method is PCGradWeighting)
        XCTAssertTrue(weighting(.mgda).method is MGDAWeighting)
        for spec in Self.methods {
            let expected: [Double] = spec == .fixed || spec == .pcGrad ? [1, 0.5, 2] : [1, 1, 1]
            XCTAssertEqual(weighting(spec).weights, expected, spec.keyword)
            XCTAssertEqual(weighting(spec).seeds, expected.map(Float.init), spec.keyword)
        }
    }

    func testUncertaintyMovesItsLogVariancesAndReportsItsOwnObjective() {
        let uncertainty = weighting(.uncertainty)
        XCTAssertEqual(uncertainty.objective(losses: [2, 1, 0.5]), 3.5)          // Σ e⁰·L + 0
        uncertainty.didStep(losses: [2, 1, 0.5])
        // Adam's first step moves each s by the learning rate against the sign of 1 − L: [+, 0, −]·0.01.
        let s = uncertainty.weights.map { -log($0) }
        XCTAssertEqual(s[0], 0.01, accuracy: 1e-9)
        XCTAssertEqual(s[1], 0, accuracy: 1e-9)
        XCTAssertEqual(s[2], -0.01, accuracy: 1e-9)
        XCTAssertEqual(uncertainty.state.map(\.name), ["weighting.weights", "weighting.log_variances", "weighting.adam"])
    }

    func testDynamicWeightAverageMovesAfterTwoEpochsOnly() {
        let dwa = weighting(.dynamicWeightAverage(temperature: 2))
        dwa.didStep(losses: [1, 1, 1])
        dwa.didFinishEpoch(meanLosses: [2, 2, 2])
        XCTAssertEqual(dwa.weights, [1, 1, 1])
        dwa.didFinishEpoch(meanLosses: [1, 2, 2])
        XCTAssertEqual(dwa.weights, MultiTaskMath.dynamicWeightAverage(previous: [1, 2, 2], beforePrevious: [2, 2, 2], temperature: 2))
        XCTAssertEqual(dwa.state.map(\.name), ["weighting.weights", "weighting.epoch_losses.0", "weighting.epoch_losses.1"])
    }

    func testMethodsThatDoNotLearnKeepTheirWeightsBetweenSteps() {
        for spec in [WeightingSpec.fixed, .pcGrad, .mgda] {
            let method = weighting(spec)
            let before = method.weights
            method.didStep(losses: [3, 2, 1])
            method.didFinishEpoch(meanLosses: [3, 2, 1])
            method.didFinishEpoch(meanLosses: [1, 2, 3])
            XCTAssertEqual(method.weights, before, spec.keyword)
            XCTAssertEqual(method.objective(losses: [3, 2, 1]), zip(before, [3.0, 2, 1]).reduce(0) { $0 + $1.0 * $1.1 })
            XCTAssertEqual(method.state.map(\.name), ["weighting.weights"], spec.keyword)
        }
        // GradNorm moves only with the norms its own step measures; without a step it keeps its weights.
        let gradNorm = weighting(.gradNorm(alpha: 1.5, learningRate: 0.025))
        gradNorm.didStep(losses: [3, 2, 1])
        XCTAssertEqual(gradNorm.weights, [1, 1, 1])
        XCTAssertEqual(gradNorm.state.map(\.name), ["weighting.weights", "weighting.adam"])
    }

    /// A checkpoint holding every method's tensors restores into each method, which keeps exactly its own,
    /// bit for bit.
    func testACheckpointWithEveryMethodsTensorsRestoresIntoEachMethod() throws {
        let saved = legacyState()
        let own: [String: [String]] = [
            "fixed": ["weighting.weights"], "pcgrad": ["weighting.weights"], "mgda": ["weighting.weights"],
            "uncertainty": ["weighting.weights", "weighting.log_variances", "weighting.adam"],
            "gradnorm": ["weighting.weights", "weighting.adam", "weighting.initial_losses"],
            "dwa": ["weighting.weights", "weighting.epoch_losses.0", "weighting.epoch_losses.1"],
        ]
        for spec in Self.methods {
            let method = weighting(spec)
            try method.restore(saved)
            XCTAssertEqual(method.weights, [0.75, 1.5, 0.75], spec.keyword)
            XCTAssertEqual(method.state.map(\.name), own[spec.keyword], spec.keyword)
            for (name, values) in method.state {
                XCTAssertEqual(values.map(\.bitPattern), saved[name]!.map(\.bitPattern), "\(spec.keyword) \(name)")
            }
            // And what it saves restores into a fresh one.
            let again = weighting(spec)
            try again.restore(Dictionary(uniqueKeysWithValues: method.state.map { ($0.name, $0.values) }))
            XCTAssertEqual(again.state.map { $0.values.map(\.bitPattern) }, method.state.map { $0.values.map(\.bitPattern) })
        }
    }

    /// Damaged or missing state is refused with a message naming it, and nothing changes.
    func testDamagedStateIsRefusedAndNothingChanges() {
        let cases: [(WeightingSpec, String, [Float]?, String)] = [
            (.fixed, "weighting.weights", nil, "the task-weighting state is missing"),
            (.mgda, "weighting.weights", DoubleBits.encode([1, -1, 1]), "'state.weighting.weights' holds a negative weight"),
            (.pcGrad, "weighting.weights", DoubleBits.encode([1, 1]), "'state.weighting.weights' holds 2 values; the model has 3 tasks"),
            (.uncertainty, "weighting.log_variances", nil, "the task-weighting state is missing"),
            (.uncertainty, "weighting.log_variances", DoubleBits.encode([0, .infinity, 0]), "'state.weighting.log_variances' holds a value that is not finite"),
            (.uncertainty, "weighting.adam", nil, "the task-weighting state is missing"),
            (.gradNorm(alpha: 1.5, learningRate: 0.025), "weighting.adam", DoubleBits.encode([-4, 0, 0, 0, 0, 0, 0]), "weighting optimizer step"),
            (.gradNorm(alpha: 1.5, learningRate: 0.025), "weighting.initial_losses", DoubleBits.encode([1e300, 1, 1]), "'state.weighting.initial_losses' holds a value that is not finite"),
            (.dynamicWeightAverage(temperature: 2), "weighting.epoch_losses.1", DoubleBits.encode([1]), "'state.weighting.epoch_losses.1' holds 1 values"),
        ]
        for (spec, name, values, expected) in cases {
            let method = weighting(spec)
            method.didStep(losses: [2, 1, 0.5])
            method.didFinishEpoch(meanLosses: [2, 1, 0.5])
            let before = method.state.map { $0.values.map(\.bitPattern) }
            var saved = legacyState()
            saved[name] = values
            XCTAssertThrowsError(try method.restore(saved), "\(spec.keyword) \(name)") { error in
                XCTAssertTrue("\(error)".contains(expected), "'\(expected)' not in: \(error)")
            }
            XCTAssertEqual(method.state.map { $0.values.map(\.bitPattern) }, before, "\(spec.keyword) \(name)")
        }
    }
}
