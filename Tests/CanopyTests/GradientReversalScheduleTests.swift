import Canopy
import Foundation
import XCTest

/// `gradient_reversal` with `schedule: ganin`: the factor on λ follows 2/(1 + exp(−10·p)) − 1 over the run's
/// progress p = (step − 1) / total steps, the trainer sets it before every step (0 at the first, so the trunk
/// gets no domain gradient then), and a resumed run follows the same curve bit for bit.
final class GradientReversalScheduleTests: XCTestCase {
    /// The adversarial model of ``GradientReversalTrainingTests`` with the domain head behind a ganin reversal.
    static func spec(schedule: String = "ganin", epochs: Int = 4, batchSize: Int = 128,
                     learningRates: String = "cosine") throws -> ModelSpec {
        try ModelFile.parse("""
            name: adversarial
            data: {source: builtin:digits}
            input: {shape: [4]}
            shared: [{dense: 8}, tanh]
            tasks:
              main: {head: [{dense: 2}], loss: cross_entropy, metrics: [accuracy]}
              domain: {head: [{gradient_reversal: {lambda: 0.8, schedule: \(schedule)}}, {dense: 2}], loss: cross_entropy}
            train: {optimizer: {adam: {lr: 0.01}}, batch_size: \(batchSize), epochs: \(epochs), seed: 4, shuffle: true,
                    schedule: \(learningRates)}
            """, fileName: "adversarial.yaml", baseDirectory: nil)
    }

    func testTheFactorAtTheFirstMiddleAndLastStepFollowsTheFormula() {
        let schedule = LearningRateSchedule(base: 0.1, spec: ScheduleSpec(), stepsPerEpoch: 10, epochs: 4)
        func formula(_ p: Double) -> Float { Float(2 / (1 + exp(-10 * p)) - 1) }
        for (step, p) in [(1, 0.0), (21, 0.5), (40, 39.0 / 40)] {
            XCTAssertEqual(schedule.progress(atStep: step), p, "step \(step)")
            XCTAssertEqual(ReversalSchedule.ganin.factor(atProgress: schedule.progress(atStep: step)), formula(p),
                           "step \(step)")
            XCTAssertEqual(ReversalSchedule.constant.factor(atProgress: p), 1)
        }
        XCTAssertEqual(ReversalSchedule.ganin.factor(atProgress: 0), 0)
        XCTAssertEqual(ReversalSchedule.ganin.factor(atProgress: 0.5), 0.986_614_3, accuracy: 1e-6)
        XCTAssertEqual(ReversalSchedule.ganin.factor(atProgress: 3), formula(1), "progress past the horizon is clamped")
    }

    /// One task, reached only through a ganin reversal: at step 1 the factor is 0, so the trunk does not move;
    /// at step 2 it does. With a constant λ it moves at step 1.
    func testTheTrainerSetsTheFactorBeforeEachStep() throws {
        func trunkAfterSteps(_ steps: Int, schedule: String) throws -> (before: [Float], after: [Float]) {
            var spec = try Self.spec(schedule: schedule, epochs: 2, batchSize: 512, learningRates: "constant")
            spec.tasks.removeFirst()
            let trainer = try Trainer(spec: spec, backend: CPUBackend(), data: try GradientReversalTrainingTests.data())
            XCTAssertEqual(trainer.stepsPerEpoch, 1)
            let before = try trainer.parameters.snapshot()["shared.0.weight"]!
            _ = try trainer.train(epochs: steps)
            return (before, try trainer.parameters.snapshot()["shared.0.weight"]!)
        }
        let first = try trunkAfterSteps(1, schedule: "ganin")
        XCTAssertEqual(first.after, first.before, "factor 0 at step 1: no gradient reaches the trunk")
        let second = try trunkAfterSteps(2, schedule: "ganin")
        XCTAssertNotEqual(second.after, second.before, "factor 2/(1+e^−5) − 1 at step 2")
        let constant = try trunkAfterSteps(1, schedule: "constant")
        XCTAssertNotEqual(constant.after, constant.before)
    }

    /// Two epochs, a checkpoint, then a trainer started from a model file that asks for more epochs resumes: the
    /// checkpoint's horizon keeps the curve, so epochs 3 and 4 equal the uninterrupted run's bit for bit.
    func testAResumedRunFollowsTheSameCurveBitForBit() throws {
        let data = try GradientReversalTrainingTests.data()
        let straightTrainer = try Trainer(spec: try Self.spec(), backend: CPUBackend(), data: data)
        let straight = try straightTrainer.train()

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-reversal-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        let first = try Trainer(spec: try Self.spec(), backend: CPUBackend(), data: data)
        _ = try first.train(epochs: 2)
        try first.checkpoint().write(to: file)

        let resumed = try Trainer(spec: try Self.spec(epochs: 9), backend: CPUBackend(), data: data)
        try resumed.restore(TrainingCheckpoint.read(from: file))
        let rest = try resumed.train(epochs: 4)
        XCTAssertEqual(rest.map(\.epoch), [3, 4])
        XCTAssertEqual(rest.map(\.train), Array(straight[2...].map(\.train)))
        XCTAssertEqual(rest.map(\.validation), Array(straight[2...].map(\.validation)))
        XCTAssertEqual(try resumed.parameters.snapshot(), try straightTrainer.parameters.snapshot())

        // The schedule matters: the same run with a constant λ ends elsewhere.
        let constant = try Trainer(spec: try Self.spec(schedule: "constant"), backend: CPUBackend(), data: data)
        _ = try constant.train()
        XCTAssertNotEqual(try constant.parameters.snapshot(), try straightTrainer.parameters.snapshot())
    }
}
