import Canopy
import Foundation
import XCTest

/// The values a program embedding Canopy hands between tasks are `Sendable` (the package compiles in the Swift 6
/// language mode, so this file would not compile if one stopped being so), and a trained model's numbers do not
/// depend on which task trained it.
final class SendableTests: XCTestCase {
    private func requireSendable<T: Sendable>(_: T.Type) {}

    func testPublicValuesAreSendable() {
        requireSendable(ModelSpec.self)
        requireSendable(TaskSpec.self)
        requireSendable(LayerSpec.self)
        requireSendable(ModelFileError.self)
        requireSendable(EpochReport.self)
        requireSendable(TaskScore.self)
        requireSendable(ModelData.self)
        requireSendable(TrainingCheckpoint.self)
        requireSendable(DataError.self)
        requireSendable(CheckpointError.self)
        requireSendable(TrainingError.self)
        requireSendable(BackendError.self)
        requireSendable(GraphError.self)
        requireSendable(OpenCLDeviceInfo.self)
        requireSendable(OpenCLBackendOptions.self)
        requireSendable(OpenCLCompileStatistics.self)
    }

    /// Two training runs in concurrent tasks, each with its own trainer and backend, give the numbers one run
    /// alone gives.
    func testConcurrentTrainingRunsInTasksMatchASequentialRun() async throws {
        let url = TestModels.examples.appendingPathComponent("digits-mlp.json")
        var spec = try ModelFile.load(contentsOf: url)
        spec.train.epochs = 1
        let frozen = spec
        @Sendable func validationLoss() throws -> Double {
            let reports = try Trainer(spec: frozen, backend: CPUBackend()).train()
            return reports.last!.validation.map(\.loss).reduce(0, +)
        }
        let alone = try validationLoss()
        async let first = Task.detached { try validationLoss() }.value
        async let second = Task.detached { try validationLoss() }.value
        let (a, b) = try await (first, second)
        XCTAssertEqual(a, alone)
        XCTAssertEqual(b, alone)
    }
}
