import Canopy
import Foundation
import XCTest

/// Every example model file: the summary `canopy check` prints names exactly the parameters the graph builder
/// makes, and the multi-task examples learn.
final class SchemeExamplesTests: XCTestCase {
    /// Trains an example (made smaller where it has a size option) and checks that the validation loss fell
    /// by `factor` from the first epoch to the last, on the CPU and, when there is one, the OpenCL backend.
    private func checkLearns(_ name: String, epochs: Int, rows: Double? = nil, factor: Double = 0.8,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        var spec = try ModelFile.load(contentsOf: TestModels.examples.appendingPathComponent(name))
        if let rows { spec.data.options["rows"] = rows }
        spec.train.epochs = epochs
        var backends: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        for backend in backends {
            let reports = try Trainer(spec: spec, backend: backend).train()
            let first = reports.first!.validation.map(\.loss).reduce(0, +)
            let last = reports.last!.validation.map(\.loss).reduce(0, +)
            print("\(name) on \(backend.name): validation loss \(first) → \(last); "
                + reports.last!.validation.map { "\($0.task) \($0.metrics)" }.joined(separator: ", "))
            XCTAssertLessThan(last, first * factor, "\(name) on \(backend.name) should learn", file: file, line: line)
        }
    }

    func testMMoELearns() throws { try checkLearns("mmoe-synthetic.yaml", epochs: 4, rows: 3000) }
    func testOMoELearns() throws { try checkLearns("omoe-synthetic.yaml", epochs: 4, rows: 3000) }
    func testSharedBottomLearns() throws { try checkLearns("shared-bottom-synthetic.yaml", epochs: 4, rows: 3000) }
    func testCrossStitchLearns() throws { try checkLearns("cross-stitch-multidigits.yaml", epochs: 3, rows: 1500, factor: 0.5) }
    func testSoftSharingLearns() throws { try checkLearns("soft-sharing-multidigits.yaml", epochs: 3, rows: 1500, factor: 0.5) }
    /// The trace-norm penalty pulls the stacked tower weights toward low rank: a smaller nuclear norm than
    /// without it, from the same start.
    func testTraceNormPenaltyLowersTheNuclearNorm() throws {
        var spec = try ModelFile.load(contentsOf: TestModels.examples.appendingPathComponent("soft-sharing-multidigits.yaml"))
        spec.data.options["rows"] = 800
        spec.train.epochs = 2
        func nuclearNorm(traceNorm: Float) throws -> Double {
            guard case var .soft(soft) = spec.scheme else { throw XCTSkip("the example is not soft sharing") }
            soft.traceNorm = traceNorm
            soft.l2 = 0
            var variant = spec
            variant.scheme = .soft(soft)
            let trainer = try Trainer(spec: variant, backend: CPUBackend())
            _ = try trainer.train()
            let group = trainer.model.tiedParameters.first { $0[0].hasSuffix("weight") }!
            let snapshot = try trainer.parameters.snapshot()
            return MultiTaskMath.traceNorm(group.map { snapshot[$0]! }).value
        }
        let plain = try nuclearNorm(traceNorm: 0), penalised = try nuclearNorm(traceNorm: 1)
        print("nuclear norm of the first tied weight: \(plain) without the penalty, \(penalised) with it")
        XCTAssertLessThan(penalised, plain * 0.95)
    }

    func testMTANLearns() throws { try checkLearns("mtan-multidigits.yaml", epochs: 3, rows: 1500, factor: 0.5) }
    func testPCGradLearns() throws { try checkLearns("multidigits-pcgrad.yaml", epochs: 3, rows: 1500, factor: 0.5) }
    func testTaskGatingLearns() throws { try checkLearns("digits-task-gating.yaml", epochs: 4, factor: 0.5) }
    func testResidualGraphLearns() throws { try checkLearns("digits-residual-graph.yaml", epochs: 4, factor: 0.5) }
}
