import Canopy
import Foundation
import XCTest

/// RMSprop and the adamw keyword from a model file: they learn, agree across backends and resume exactly.
final class OptimizerTrainingTests: ScratchTestCase {
    private func spec(_ optimizer: String, epochs: Int = 3) throws -> ModelSpec {
        try ModelFile.parse(Self.smallModel(train: "optimizer: \(optimizer), batch_size: 64, epochs: \(epochs), seed: 1"),
                            fileName: "model.yaml", baseDirectory: nil)
    }

    func testRMSpropLearnsOnBothBackendsAlike() throws {
        let spec = try self.spec("{rmsprop: {lr: 0.003, momentum: 0.5, weight_decay: 0.0001}}")
        let cpu = try Trainer(spec: spec, backend: CPUBackend()).train()
        XCTAssertGreaterThan(cpu.last!.validation[0].metric("accuracy")!, 0.85)
        let (openCL, reason) = TestModels.openCL()
        guard let openCL else { throw XCTSkip(reason) }
        let other = try Trainer(spec: spec, backend: openCL).train()
        for (a, b) in zip(cpu, other) {
            XCTAssertEqual(a.validation[0].loss, b.validation[0].loss, accuracy: 1e-4 * abs(a.validation[0].loss))
        }
    }

    func testAdamWKeywordDecaysByDefaultAndRMSpropResumesExactly() throws {
        guard case let .adam(_, _, _, _, decay) = try spec("adamw").train.optimizer else { return XCTFail("adamw is adam") }
        XCTAssertEqual(decay, 0.01)
        guard case let .adam(_, _, _, _, none) = try spec("adam").train.optimizer else { return XCTFail("adam") }
        XCTAssertEqual(none, 0)
        assertRefused(try canopy("check", try write(Self.smallModel(train: "optimizer: {rmsprop: {alpha: 1.5}}, batch_size: 8, epochs: 1"))),
                      "train.optimizer.rmsprop.alpha", "alpha must be in [0, 1)")

        let spec = try self.spec("{rmsprop: {lr: 0.003, momentum: 0.9}}", epochs: 4)
        let whole = try Trainer(spec: spec, backend: CPUBackend())
        _ = try whole.train()
        let first = try Trainer(spec: spec, backend: CPUBackend())
        _ = try first.train(epochs: 2)
        let resumed = try Trainer(spec: spec, backend: CPUBackend())
        try resumed.restore(try first.checkpoint())
        _ = try resumed.train()
        XCTAssertEqual(try resumed.parameters.snapshot(), try whole.parameters.snapshot())
        XCTAssertEqual(Set(try resumed.checkpoint().optimizerState.map { String($0.name.split(separator: ".").last!) }),
                       ["square", "buffer"])
    }
}
