import Canopy
import Foundation
import XCTest

/// `Examples/attention-sequences.yaml` trains to its stated result on both backends: validation accuracy of at
/// least 0.95 on both tasks (each label's majority class is about 0.52). Without the attention layer the order
/// task stays at chance while the count is still learnt: order needs attention.
final class AttentionSequencesExampleTests: XCTestCase {
    func testBothTasksLearnWithAttentionAndOrderNeedsIt() throws {
        let spec = try ModelFile.load(contentsOf: TestModels.examples.appendingPathComponent("attention-sequences.yaml"))
        var backends: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        for backend in backends {
            let last = try Trainer(spec: spec, backend: backend).train().last!.validation
            let order = try XCTUnwrap(last[0].metric("accuracy")), many = try XCTUnwrap(last[1].metric("accuracy"))
            print("attention-sequences on \(backend.name): order \(order), many \(many)")
            XCTAssertGreaterThanOrEqual(order, 0.95, backend.name)
            XCTAssertGreaterThanOrEqual(many, 0.95, backend.name)
        }
        var plain = spec
        plain.shared.remove(at: 1)   // the same model without the attention layer
        plain.train.epochs = 10
        let last = try Trainer(spec: plain, backend: CPUBackend()).train().last!.validation
        let order = try XCTUnwrap(last[0].metric("accuracy")), many = try XCTUnwrap(last[1].metric("accuracy"))
        print("attention-sequences without attention: order \(order), many \(many)")
        XCTAssertLessThan(order, 0.6, "the order of two tokens is not in the mean of their embeddings")
        XCTAssertGreaterThan(many, 0.95, "the count is")
    }

    /// The embedding table starts with variance about 1 (U(−√3, √3)) and an all-zero padding row, which training
    /// leaves at zero (it gets no gradient).
    func testThePaddingRowStartsAndStaysZero() throws {
        var spec = try ModelFile.load(contentsOf: TestModels.examples.appendingPathComponent("attention-sequences.yaml"))
        let graph = try ModelGraph.build(spec, batchSize: 2, training: false).graph
        let table = try XCTUnwrap(ParameterInitializer.initialValues(for: graph, seed: 3)["shared.0.weight"])
        XCTAssertEqual(table.count, 12 * 16)
        XCTAssertEqual(Array(table[0..<16]), [Float](repeating: 0, count: 16))
        let rest = table[16...], mean = rest.reduce(0, +) / Float(rest.count)
        let variance = rest.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(rest.count)
        XCTAssertEqual(variance, 1, accuracy: 0.25)
        XCTAssertTrue(rest.allSatisfy { abs($0) <= Float(3).squareRoot() })
        spec.train.epochs = 1
        let trainer = try Trainer(spec: spec, backend: CPUBackend())
        _ = try trainer.train()
        let trained = try XCTUnwrap(try trainer.parameters.snapshot()["shared.0.weight"])
        XCTAssertEqual(Array(trained[0..<16]), [Float](repeating: 0, count: 16))
        XCTAssertNotEqual(Array(trained[16..<32]), Array(table[16..<32]), "used rows are trained")
    }
}
