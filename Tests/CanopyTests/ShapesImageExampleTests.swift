import Canopy
import Foundation
import XCTest

/// `Examples/shapes-cnn.yaml` (PNG images named by a labels CSV, augmented training batches, a small ResNet trunk
/// with batch norm and two heads) learns both tasks on both backends, which agree. Four epochs here to keep the
/// test short (shape accuracy is then about 0.6, chance 0.25; the example's 24 epochs reach 1.000 test accuracy on
/// both tasks, README "Image example").
final class ShapesImageExampleTests: XCTestCase {
    func testBothHeadsLearnFromTheImagesOnBothBackends() throws {
        var spec = try ModelFile.load(contentsOf: TestModels.examples.appendingPathComponent("shapes-cnn.yaml"))
        XCTAssertEqual(spec.input.augment, AugmentSpec(horizontalFlip: true, cropPadding: 2))
        spec.train.epochs = 4
        var backends: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        var firstEpochs: [[TaskScore]] = []
        for backend in backends {
            let reports = try Trainer(spec: spec, backend: backend).train()
            firstEpochs.append(reports[0].validation)
            let last = reports.last!.validation
            let shape = try XCTUnwrap(last[0].metric("accuracy")), color = try XCTUnwrap(last[1].metric("accuracy"))
            print("shapes-cnn on \(backend.name), 4 epochs: shape \(shape), color \(color)")
            XCTAssertGreaterThan(shape, 0.45, backend.name)
            XCTAssertGreaterThan(color, 0.95, backend.name)
        }
        if firstEpochs.count == 2 {
            for (a, b) in zip(firstEpochs[0], firstEpochs[1]) {
                XCTAssertEqual(a.loss, b.loss, accuracy: 1e-3 * max(1, abs(a.loss)), "epoch 1 \(a.task): cpu vs opencl")
            }
        }
    }
}
