import Canopy
import Foundation
import XCTest

/// `Examples/shapes-cnn.yaml` (PNG images named by a labels CSV, augmented training batches, a convolutional trunk
/// and two heads) learns both tasks on both backends. Ten epochs here to keep the test short; the example's 24
/// reach 0.96 test accuracy on shape.
final class ShapesImageExampleTests: XCTestCase {
    func testBothHeadsLearnFromTheImagesOnBothBackends() throws {
        var spec = try ModelFile.load(contentsOf: TestModels.examples.appendingPathComponent("shapes-cnn.yaml"))
        XCTAssertEqual(spec.input.augment, AugmentSpec(horizontalFlip: true, cropPadding: 2))
        spec.train.epochs = 10
        var backends: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        for backend in backends {
            let last = try Trainer(spec: spec, backend: backend).train().last!.validation
            let shape = try XCTUnwrap(last[0].metric("accuracy")), color = try XCTUnwrap(last[1].metric("accuracy"))
            print("shapes-cnn on \(backend.name), 10 epochs: shape \(shape), color \(color)")
            XCTAssertGreaterThan(shape, 0.5, backend.name)
            XCTAssertGreaterThan(color, 0.95, backend.name)
        }
    }
}
