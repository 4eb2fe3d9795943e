import Canopy
import Foundation
import XCTest

/// Training that really learns, reproducibly, on both backends, and stops cleanly on a NaN.
final class TrainingTests: XCTestCase {
    /// The shipped default example reaches the accuracies README.md promises.
    func testDefaultExampleLearnsDigitAndParityOnCPU() throws {
        try checkDefaultExampleLearns(on: CPUBackend())
    }

    func testDefaultExampleLearnsDigitAndParityOnOpenCL() throws {
        let (openCL, reason) = TestModels.openCL()
        guard let openCL else { throw XCTSkip(reason) }
        try checkDefaultExampleLearns(on: openCL)
    }

    private func checkDefaultExampleLearns(on backend: Backend) throws {
        let spec = try ModelFile.load(contentsOf: TestModels.examples.appendingPathComponent("digits.yaml"))
        let started = Date()
        let reports = try Trainer(spec: spec, backend: backend).train()
        let last = reports.last!
        let digit = last.validation.first { $0.task == "digit" }!, parity = last.validation.first { $0.task == "parity" }!
        print("\(backend.name): \(reports.count) epochs in \(Date().timeIntervalSince(started)) s; validation digit "
            + "\(digit.metrics), parity \(parity.metrics)")
        XCTAssertGreaterThanOrEqual(digit.metric("accuracy")!, 0.95)
        XCTAssertGreaterThanOrEqual(parity.metric("accuracy")!, 0.97)
    }

    func testTheSameSeedTwiceGivesIdenticalLossesOnCPU() throws {
        try checkDeterminism(on: { CPUBackend() })
    }

    func testTheSameSeedTwiceGivesIdenticalLossesOnOpenCL() throws {
        let (openCL, reason) = TestModels.openCL()
        guard openCL != nil else { throw XCTSkip(reason) }
        try checkDeterminism(on: { try OpenCLBackend() })
    }

    private func checkDeterminism(on makeBackend: () throws -> Backend) throws {
        let spec = TestModels.digitsMLP(epochs: 2)
        let first = try Trainer(spec: spec, backend: makeBackend()).train()
        let second = try Trainer(spec: spec, backend: makeBackend()).train()
        XCTAssertEqual(first.map(\.train), second.map(\.train))
        XCTAssertEqual(first.map(\.validation), second.map(\.validation))
        var other = spec
        other.train.seed += 1
        let third = try Trainer(spec: other, backend: makeBackend()).train()
        XCTAssertNotEqual(first.last!.train[0].loss, third.last!.train[0].loss, "another seed should change the run")
    }

    /// Both backends train the same model to the same losses within float tolerance.
    func testBackendsAgreeOnTrainingLosses() throws {
        let (openCL, reason) = TestModels.openCL()
        guard let openCL else { throw XCTSkip(reason) }
        let spec = TestModels.digitsMLP(epochs: 1)
        let cpu = try Trainer(spec: spec, backend: CPUBackend()).train().last!
        let gpu = try Trainer(spec: spec, backend: openCL).train().last!
        for (a, b) in zip(cpu.train + cpu.validation, gpu.train + gpu.validation) {
            print("\(a.task): cpu \(a.loss) opencl \(b.loss)")
            XCTAssertEqual(a.loss, b.loss, accuracy: 2e-3 * max(1, abs(a.loss)), a.task)
        }
    }

    /// A learning rate that blows up stops training with the task and step named, and the output directory keeps
    /// finite parameters.
    func testNonFiniteLossStopsTrainingNamingTaskAndStep() throws {
        var spec = TestModels.digitsMLP(epochs: 3)
        spec.train.optimizer = .sgd(learningRate: 1e6, momentum: 0.9, weightDecay: 0)
        let trainer = try Trainer(spec: spec, backend: CPUBackend())
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-nan-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try RunOutput(directory: directory, trainer: trainer)
        XCTAssertThrowsError(try trainer.train(observer: output)) { error in
            guard case let .nonFiniteLoss(task, _, step, _) = error as? TrainingError else {
                return XCTFail("expected a non-finite loss, got \(error)")
            }
            XCTAssertTrue(["digit", "parity", "ink"].contains(task))
            XCTAssertGreaterThan(step, 1)
            XCTAssertTrue("\(error)".contains("task '\(task)'"), "\(error)")
        }
        if FileManager.default.fileExists(atPath: output.parametersURL.path) {
            let saved = try SafeTensorsFile.read(from: output.parametersURL)
            XCTAssertTrue(saved.tensors.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        }
    }
}
