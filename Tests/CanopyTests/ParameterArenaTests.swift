import Canopy
import CanopyTestSupport
import Foundation
import XCTest

/// Trainable parameters lie end to end in one arena (a view per parameter), gradients are planned into an arena
/// laid out alike, and one optimizer launch updates them all: the same numbers, bit for bit, as one launch per
/// parameter on separate buffers.
final class ParameterArenaTests: XCTestCase {
    /// Runs everything on another backend but makes no views, so stores, gradients and optimizers keep separate
    /// buffers (the layout every third-party backend without views gets).
    final class NoViews: ForwardingBackend {
        override func makeView(of buffer: DeviceBuffer, offset: Int, count: Int) throws -> DeviceBuffer {
            throw BackendError.unsupportedKernel(kernel: "makeView", backend: name)
        }
        override var viewAlignment: Int { 1 }
    }

    func testViewsShareTheArenaAtAlignedOffsets() throws {
        for backend in try backends() {
            let spec = TestModels.digitsMLP()
            let model = try ModelGraph.build(spec, batchSize: 4)
            let store = try ParameterStore(graph: model.graph, backend: backend)
            let layout = try XCTUnwrap(store.layout, backend.name)
            let arena = try XCTUnwrap(store.arena)
            XCTAssertEqual(layout.names, store.trainableNames)
            var end = 0
            for name in layout.names {
                let offset = layout.offsets[name]!
                XCTAssertEqual(offset % backend.viewAlignment, 0, "\(backend.name): \(name)")
                XCTAssertGreaterThanOrEqual(offset, end, "\(name) overlaps the one before")
                end = offset + store.count(named: name)
            }
            let values = (0..<store.count(named: "shared.0.weight")).map { Float($0) + 0.5 }
            try store.load(["shared.0.weight": values])
            let whole = try backend.download(arena)
            let start = layout.offsets["shared.0.weight"]!
            XCTAssertEqual(Array(whole[start..<(start + values.count)]), values, backend.name)
            XCTAssertEqual(whole.filter { $0 != 0 }.count, values.filter { $0 != 0 }.count, "nothing else written")
        }
    }

    func testOneLaunchUpdatesAsOneLaunchPerParameterDoes() throws {
        for backend in try backends() {
            for optimizer in [OptimizerSpec.adam(learningRate: 0.01), .sgd(learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3),
                              .rmsprop(learningRate: 0.003, alpha: 0.99, epsilon: 1e-8, momentum: 0.5, weightDecay: 0)] {
                var spec = TestModels.digitsMLP()
                spec.train.optimizer = optimizer
                let arena = try Trainer(spec: spec, backend: backend), separate = try Trainer(spec: spec, backend: NoViews(backend))
                XCTAssertNotNil(arena.parameters.layout)
                XCTAssertNil(separate.parameters.layout)
                let a = try arena.runSteps(5), b = try separate.runSteps(5)
                XCTAssertEqual(a, b, "\(backend.name) \(optimizer): losses")
                XCTAssertEqual(try arena.parameters.snapshot(), try separate.parameters.snapshot(), "\(backend.name) \(optimizer)")
                XCTAssertEqual(try arena.optimizer.stateSnapshot(), try separate.optimizer.stateSnapshot())
            }
        }
    }

    /// Clipping a whole gradient arena takes one reduction, one scalar read and one scaling, and gives what
    /// clipping parameter by parameter gives (the norm summed in another order: within float rounding).
    func testClippingTheArenaMatchesClippingEachParameter() throws {
        var spec = TestModels.digitsMLP()
        spec.train.clipNorm = 0.05   // well below the gradients' norm: every step is clipped
        let traced = TracingBackend(wrapping: CPUBackend())
        let arena = try Trainer(spec: spec, backend: traced), separate = try Trainer(spec: spec, backend: NoViews(CPUBackend()))
        try arena.runSteps(1)
        traced.reset()
        try arena.runSteps(4, firstBatch: 1)
        XCTAssertEqual(traced.kernelCalls["sumOfSquares"], 4)
        XCTAssertEqual(traced.kernelCalls["scale"], 4)
        XCTAssertEqual(traced.kernelCalls["adamUpdate"], 4)
        try separate.runSteps(1)
        try separate.runSteps(4, firstBatch: 1)
        let a = try arena.parameters.snapshot(), b = try separate.parameters.snapshot()
        for name in arena.parameters.names {
            assertClose(a[name]!, b[name]!, tolerance: .float32, name)
        }
    }

    /// MMoE experts fused into one product stack their weights and biases: lying end to end in the arena, the
    /// stack is a view of it (no copy), and its gradient is computed straight into the gradient arena (no slices)
    /// — the same numbers, bit for bit, as copying, on both backends.
    func testStackedExpertsAreViewsOfTheArenas() throws {
        let spec = try ModelFile.parse("""
            name: m
            data: {source: builtin:synthetic-mmoe}
            input: {shape: [100]}
            mmoe: {experts: 3, expert: [{dense: 32}, relu]}
            tasks:
              y1: {head: [{dense: 1}], loss: mse}
              y2: {head: [{dense: 1}], loss: mse}
            train: {optimizer: adam, batch_size: 5, epochs: 1}
            """, fileName: "m.yaml", baseDirectory: nil)   // weights of 32 × 100 and biases of 32: no gaps between them
        for backend in try backends() {
            let traced = TracingBackend(wrapping: backend), copying = TracingBackend(wrapping: NoViews(backend))
            let arena = try Trainer(spec: spec, backend: traced), separate = try Trainer(spec: spec, backend: copying)
            let layout = try XCTUnwrap(arena.parameters.layout)
            let weights = (0..<3).map { "experts.\($0).0.weight" }
            XCTAssertEqual(weights.map { layout.offsets[$0]! }, weights.map { layout.offsets[weights[0]]! + 3200 * weights.firstIndex(of: $0)! },
                           "the stacked weights lie end to end")
            try arena.runSteps(1); try separate.runSteps(1)
            traced.reset(); copying.reset()
            let a = try arena.runSteps(3, firstBatch: 1), b = try separate.runSteps(3, firstBatch: 1)
            XCTAssertEqual(a, b, backend.name)
            XCTAssertEqual(try arena.parameters.snapshot(), try separate.parameters.snapshot(), backend.name)
            // Per step: the tasks' losses, counts and outputs, computed end to end in one buffer, recorded in one
            // copy; without views each of the 3 × 2 is first copied into that buffer, 2 × 3 parameters are stacked
            // and 2 × 3 gradients sliced.
            XCTAssertEqual(traced.kernelCalls["copyBlock"], 3 * 1, backend.name)
            XCTAssertEqual(copying.kernelCalls["copyBlock"], 3 * (1 + 6 + 12), backend.name)
        }
    }

    /// One update call per step on a traced backend; with frozen parameters, one per run of trained ones.
    func testLaunchCounts() throws {
        var spec = TestModels.digitsMLP()
        let traced = TracingBackend(wrapping: CPUBackend())
        let trainer = try Trainer(spec: spec, backend: traced)
        try trainer.runSteps(1)
        traced.reset()
        try trainer.runSteps(1)
        XCTAssertEqual(traced.kernelCalls["adamUpdate"], 1)

        spec.transfer.freeze = ["shared.0.weight"]   // a parameter-name prefix: only that weight
        let frozen = TracingBackend(wrapping: CPUBackend())
        let partly = try Trainer(spec: spec, backend: frozen)
        try partly.runSteps(1)
        frozen.reset()
        try partly.runSteps(1)
        XCTAssertEqual(frozen.kernelCalls["adamUpdate"], 1, "the parameters after the frozen first one are one run")
        XCTAssertEqual(frozen.buffersMade, 0, "the run's views are made once")

        // A frozen parameter in the middle splits the arena into two runs; training matches separate buffers.
        spec.transfer.freeze = ["tasks.parity"]
        let middle = TracingBackend(wrapping: CPUBackend())
        let arena = try Trainer(spec: spec, backend: middle), separate = try Trainer(spec: spec, backend: NoViews(CPUBackend()))
        try arena.runSteps(1)
        middle.reset()
        try arena.runSteps(1)
        XCTAssertEqual(middle.kernelCalls["adamUpdate"], 2, "\(arena.parameters.layout!.names)")
        try separate.runSteps(1)
        try separate.runSteps(1)   // the same two steps (both on batch 0)
        XCTAssertTrue(try arena.parameters.snapshot() == separate.parameters.snapshot(), "parameters differ")
        XCTAssertTrue(try arena.optimizer.stateSnapshot() == separate.optimizer.stateSnapshot(), "optimizer state differs")
    }

    private func backends() throws -> [Backend] {
        var result: [Backend] = [CPUBackend()]
        if let openCL = TestModels.openCL().backend { result.append(openCL) }
        return result
    }
}
