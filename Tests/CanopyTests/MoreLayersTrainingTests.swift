import Canopy
import Foundation
import XCTest

/// A small model using every layer of issue 7 trains on the builtin digits, on the CPU and on OpenCL, to the same
/// losses.
final class MoreLayersTrainingTests: XCTestCase {
    static let model = """
        name: more-layers
        data: {source: builtin:digits}
        input: {shape: [1, 8, 8]}
        shared:
          - conv2d: {filters: 8, kernel: 3, padding: 1}
          - leaky_relu: {slope: 0.2}
          - avgpool: 2             # 8×4×4
          - reshape: [128]
          - reshape: [8, 4, 4]
          - conv2d: {filters: 16, kernel: 3, padding: 1}
          - elu
          - global_avgpool         # 16
          - dense: 32
          - silu
        tasks:
          digit: {head: [{dense: 10}], loss: cross_entropy}
          value: {head: [{dense: 4}, softmax, {dense: 1}], loss: mse, weight: 0.1}
        train:
          optimizer: {adam: {lr: 0.01}}
          batch_size: 32
          epochs: 3
          seed: 5
        """

    func testLearnsAndBackendsAgree() throws {
        let spec = try ModelFile.parse(Self.model, fileName: "more-layers.yaml", baseDirectory: nil)
        let cpu = try Trainer(spec: spec, backend: CPUBackend()).train()
        let first = cpu.first!.validation.map(\.loss).reduce(0, +), last = cpu.last!.validation.map(\.loss).reduce(0, +)
        print("more layers on cpu: validation loss \(first) → \(last)")
        XCTAssertLessThan(last, first * 0.8, "the model should learn")

        let (openCL, reason) = TestModels.openCL()
        guard let openCL else { throw XCTSkip(reason) }
        let gpu = try Trainer(spec: spec, backend: openCL).train()
        assertBackendsAgree(cpu, gpu)
    }
}
