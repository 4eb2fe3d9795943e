import Canopy
import Foundation
import XCTest

/// `Examples/domain-adversarial.yaml` trains to its stated result on both backends: the main task learns while the
/// domain head behind the gradient reversal falls toward chance; without the reversal the domain is read perfectly.
final class DomainAdversarialExampleTests: XCTestCase {
    func testTheDomainHeadFallsTowardChanceWhileTheMainTaskLearns() throws {
        let spec = try ModelFile.load(contentsOf: TestModels.examples.appendingPathComponent("domain-adversarial.yaml"))
        var backends: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        for backend in backends {
            let last = try Trainer(spec: spec, backend: backend).train().last!.validation
            let main = try XCTUnwrap(last[0].metric("accuracy")), domain = try XCTUnwrap(last[1].metric("accuracy"))
            print("domain-adversarial on \(backend.name): main \(main), domain \(domain)")
            XCTAssertGreaterThan(main, 0.9, backend.name)
            XCTAssertLessThan(domain, 0.75, backend.name)
        }
        var plain = spec
        plain.tasks[1].head.removeFirst()   // the same model without the reversal
        let last = try Trainer(spec: plain, backend: CPUBackend()).train().last!.validation
        XCTAssertGreaterThan(try XCTUnwrap(last[1].metric("accuracy")), 0.95, "the domain is in the inputs")
    }
}
