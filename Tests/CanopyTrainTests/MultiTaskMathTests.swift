import CanopyModel
@testable import CanopyTrain
import XCTest

/// The arithmetic of each task-weighting method, checked against values worked out by hand.
final class MultiTaskMathTests: XCTestCase {
    func testUncertaintyGradientIsOneMinusPrecisionTimesLoss() {
        let gradient = MultiTaskMath.uncertaintyGradient(logVariances: [0, log(2)], losses: [2, 4])
        XCTAssertEqual(gradient[0], -1, accuracy: 1e-12)          // 1 − e⁰·2
        XCTAssertEqual(gradient[1], -1, accuracy: 1e-12)          // 1 − ½·4
    }

    func testDynamicWeightAverage() {
        XCTAssertEqual(MultiTaskMath.dynamicWeightAverage(previous: [1, 2], beforePrevious: [1, 2], temperature: 2), [1, 1])
        // r = [0.5, 1]; w = 2·exp(r/2)/Σ exp(r/2) = 2·[1.28403, 1.64872]/2.93275.
        let w = MultiTaskMath.dynamicWeightAverage(previous: [1, 2], beforePrevious: [2, 2], temperature: 2)
        XCTAssertEqual(w[0], 0.875647, accuracy: 1e-6)
        XCTAssertEqual(w[1], 1.124353, accuracy: 1e-6)
        XCTAssertEqual(w.reduce(0, +), 2, accuracy: 1e-12)
    }

    func testGradNormMovesWeightsTowardTheTargetNorms() {
        // L/L0 = [0.5, 1] → r = [2/3, 4/3]; Ḡ = 3; with α = 1 the targets are [2, 4] = G: no change.
        XCTAssertEqual(MultiTaskMath.gradNormGradient(weights: [1, 1], weightedNorms: [2, 4], losses: [1, 1],
                                                      initialLosses: [2, 1], alpha: 1), [0, 0])
        // α = 0: targets [3, 3]; G − target = [−1, +1]; ∂/∂w_t = sign · ‖∇L_t‖ = [−2, +4].
        XCTAssertEqual(MultiTaskMath.gradNormGradient(weights: [1, 1], weightedNorms: [2, 4], losses: [1, 1],
                                                      initialLosses: [2, 1], alpha: 0), [-2, 4])
        XCTAssertEqual(MultiTaskMath.renormalized([1, 3]), [0.5, 1.5])
    }

    func testPCGradProjectsOnlyConflictingGradients() {
        // g1·g2 = −1: g1 − (−1/2)·g2 = [0.5, 0.5]; g2 − (−1/1)·g1 = [0, 1]; sum [0.5, 1.5].
        let conflicting = MultiTaskMath.pcGrad([[1, 0], [-1, 1]], order: { $0 == 0 ? [1] : [0] })
        XCTAssertEqual(conflicting[0], 0.5, accuracy: 1e-7)
        XCTAssertEqual(conflicting[1], 1.5, accuracy: 1e-7)
        XCTAssertEqual(MultiTaskMath.pcGrad([[1, 0], [1, 1]], order: { $0 == 0 ? [1] : [0] }), [2, 1])
    }

    func testMinNormWeights() {
        let orthogonal = MultiTaskMath.minNormWeights(gram: MultiTaskMath.gram([[1, 0], [0, 1]]))
        XCTAssertEqual(orthogonal[0], 0.5, accuracy: 1e-12)
        // [1, 0] lies on the segment's end nearest the origin: all weight on it.
        XCTAssertEqual(MultiTaskMath.minNormWeights(gram: MultiTaskMath.gram([[2, 0], [1, 0]])), [0, 1])
        // Three gradients whose hull contains the origin: the min-norm point is (near) zero.
        let gradients: [[Float]] = [[1, 0], [0, 1], [-1, -1]]
        let alpha = MultiTaskMath.minNormWeights(gram: MultiTaskMath.gram(gradients))
        XCTAssertEqual(alpha.reduce(0, +), 1, accuracy: 1e-9)
        let point = (0..<2).map { i in zip(alpha, gradients).reduce(0.0) { $0 + $1.0 * Double($1.1[i]) } }
        XCTAssertLessThan((point[0] * point[0] + point[1] * point[1]).squareRoot(), 1e-2)
    }

    func testCosineAndDeltaM() {
        XCTAssertEqual(MultiTaskMath.cosine([1, 0], [0, 1]), 0)
        XCTAssertEqual(MultiTaskMath.cosine([1, 1], [2, 2]), 1, accuracy: 1e-12)
        // Task a: accuracy +12.5 %, mse (lower is better) 0.9 vs 1.0 → +10 %; mean 11.25. Task b: −12.5 %.
        let delta = MultiTaskMath.deltaM(multiTask: [[("accuracy", 0.9), ("mse", 0.9)], [("accuracy", 0.7)]],
                                         baselines: [[("accuracy", 0.8), ("mse", 1.0)], [("accuracy", 0.8)]])
        XCTAssertEqual(delta, (11.25 - 12.5) / 2, accuracy: 1e-9)
    }

    func testTraceNormAndItsGradient() {
        // Singular values 3 and 4: ‖A‖_* = 7 and U·Vᵀ = I.
        let diagonal = MultiTaskMath.traceNorm([[3, 0], [0, 4]])
        XCTAssertEqual(diagonal.value, 7, accuracy: 1e-9)
        XCTAssertEqual(diagonal.gradient.flatMap { $0 }.map { Double($0) }, [1, 0, 0, 1])
        // Rank one: A = 2·u·vᵀ with u = v = [1, 1]/√2, so ‖A‖_* = 2 and U·Vᵀ = A/2; the zero direction adds nothing.
        let rankOne = MultiTaskMath.traceNorm([[1, 1], [1, 1]])
        XCTAssertEqual(rankOne.value, 2, accuracy: 1e-9)
        for value in rankOne.gradient.flatMap({ $0 }) { XCTAssertEqual(value, 0.5, accuracy: 1e-6) }
        // Three tasks, a wide matrix: the value equals the sum of singular values from the Gram eigenvalues.
        let wide: [[Float]] = [[1, 2, 0, -1], [0, 1, 1, 0], [2, 0, 1, 1]]
        let eigen = MultiTaskMath.symmetricEigen(MultiTaskMath.gram(wide))
        XCTAssertEqual(MultiTaskMath.traceNorm(wide).value, eigen.values.map { $0.squareRoot() }.reduce(0, +), accuracy: 1e-9)
    }

    func testDoublesSurviveFloatStorageBitForBit() {
        let values = [0.1, -1e300, .pi, 0, .nan]
        let decoded = DoubleBits.decode(DoubleBits.encode(values))
        XCTAssertEqual(decoded.map(\.bitPattern), values.map(\.bitPattern))
    }

    func testLearningRateSchedules() {
        let warm = LearningRateSchedule(base: 1, spec: ScheduleSpec(kind: .constant, warmupEpochs: 1), stepsPerEpoch: 4, epochs: 3)
        XCTAssertEqual((1...6).map { warm.rate(atStep: $0) }, [0.25, 0.5, 0.75, 1, 1, 1])
        let step = LearningRateSchedule(base: 1, spec: ScheduleSpec(kind: .step(everyEpochs: 1, gamma: 0.5)), stepsPerEpoch: 2, epochs: 3)
        XCTAssertEqual((1...6).map { step.rate(atStep: $0) }, [1, 1, 0.5, 0.5, 0.25, 0.25])
        let cosine = LearningRateSchedule(base: 1, spec: ScheduleSpec(kind: .cosine(minimum: 0)), stepsPerEpoch: 5, epochs: 1)
        XCTAssertEqual(cosine.rate(atStep: 1), 1, accuracy: 1e-6)
        XCTAssertEqual(cosine.rate(atStep: 3), 0.5, accuracy: 1e-6)
        XCTAssertEqual(cosine.rate(atStep: 5), 0, accuracy: 1e-6)
    }
}
