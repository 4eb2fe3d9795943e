import Canopy
import Foundation
import XCTest

/// An interrupted and resumed run gives the same losses, bit for bit, as an uninterrupted one.
final class ResumeTests: XCTestCase {
    private func check(on makeBackend: () throws -> Backend, weighting: WeightingSpec) throws {
        var spec = TestModels.digitsMLP(epochs: 4)
        spec.train.weighting = weighting
        spec.train.schedule = ScheduleSpec(kind: .cosine(minimum: 0.0001), warmupEpochs: 1)
        let straight = try Trainer(spec: spec, backend: makeBackend()).train()

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-resume-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        let first = try Trainer(spec: spec, backend: makeBackend())
        _ = try first.train(epochs: 2)
        try first.checkpoint().write(to: file)

        let resumed = try Trainer(spec: spec, backend: makeBackend())
        try resumed.restore(TrainingCheckpoint.read(from: file))
        XCTAssertEqual(resumed.epochsCompleted, 2)
        let rest = try resumed.train()
        XCTAssertEqual(rest.map(\.epoch), [3, 4])
        XCTAssertEqual(rest.map(\.train), Array(straight[2...].map(\.train)), "\(weighting.keyword)")
        XCTAssertEqual(rest.map(\.validation), Array(straight[2...].map(\.validation)))
        XCTAssertEqual(rest.map(\.weights), Array(straight[2...].map(\.weights)))
    }

    func testResumeIsBitExactOnCPU() throws {
        try check(on: { CPUBackend() }, weighting: .uncertainty)
        try check(on: { CPUBackend() }, weighting: .dynamicWeightAverage(temperature: 2))
    }

    func testResumeIsBitExactOnOpenCL() throws {
        guard TestModels.openCL().backend != nil else { throw XCTSkip(TestModels.openCL().reason) }
        try check(on: { try OpenCLBackend() }, weighting: .gradNorm(alpha: 1.5, learningRate: 0.025))
    }
}
