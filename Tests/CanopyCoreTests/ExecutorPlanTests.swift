import CanopyCore
import CanopyCPU
import XCTest

final class ExecutorPlanTests: XCTestCase {
    /// A deep chain of same-sized activations needs only a few buffers when lifetimes do not overlap.
    func testInferencePlanReusesBuffersOfDeadValues() throws {
        let g = Graph()
        var h = g.input("x", shape: [8, 16])
        for layer in 0..<10 {
            let w = g.parameter("w\(layer)", shape: [16, 16], initializer: .heUniform(fanIn: 16))
            h = g.unary(.tanh, try g.matmul(h, w))
        }
        let backend = CPUBackend()
        let store = try ParameterStore(graph: g, backend: backend)
        let executor = try Executor(graph: g, backend: backend, parameters: store, outputs: [h], mode: .inference)
        XCTAssertEqual(executor.plannedKernels.count, 20)
        // 20 intermediate values of 128 floats; two or three buffers suffice.
        XCTAssertLessThanOrEqual(executor.intermediateBufferCount, 3, "intermediates should share buffers")
    }

    /// Inference-mode dropout and reshape launch nothing; training-mode dropout launches one kernel.
    func testAliasesLaunchNoKernels() throws {
        let g = Graph()
        let x = g.input("x", shape: [2, 3, 2, 2])
        let y = try g.dropout(try g.flatten(x), probability: 0.5)
        let out = g.unary(.relu, y)
        let backend = CPUBackend()
        let store = try ParameterStore(graph: g, backend: backend)
        let inference = try Executor(graph: g, backend: backend, parameters: store, outputs: [out], mode: .inference)
        XCTAssertEqual(inference.plannedKernels.count, 1)
        let training = try Executor(graph: g, backend: backend, parameters: store, outputs: [out], mode: .training)
        XCTAssertEqual(training.plannedKernels.count, 2)

        let input = (0..<24).map { Float($0) - 11.5 }
        try inference.setInput("x", input)
        try inference.run()
        XCTAssertEqual(try inference.read(out), input.map { max($0, 0) })
    }

    /// Gradient reversal launches nothing and shares its input's buffer in both modes; its gradient is one scale.
    func testGradientReversalAliasesItsInput() throws {
        let g = Graph()
        let x = g.input("x", shape: [3, 4])
        let w = g.parameter("w", shape: [4, 4], initializer: .heUniform(fanIn: 4))
        let h = g.unary(.tanh, try g.matmul(x, w))
        let reversed = try g.gradientReversal(h, lambda: 0.5)
        let out = g.unary(.relu, reversed)
        let backend = CPUBackend()
        let store = try ParameterStore(graph: g, backend: backend)
        for mode in [Executor.Mode.inference, .training] {
            let executor = try Executor(graph: g, backend: backend, parameters: store, outputs: [h, reversed, out], mode: mode)
            XCTAssertEqual(executor.plannedKernels.count, 3, "matmul, tanh, relu")
            XCTAssertTrue(try executor.buffer(for: reversed) === executor.buffer(for: h))
        }
        let before = g.nodes.count
        let seed = g.input("seed", shape: [1])
        let loss = try g.maskedMean(try g.reshape(out, to: [12]), mask: g.input("mask", shape: [12])).loss
        _ = try Autodiff.gradients(of: [(loss, seed)], withRespectTo: [w], in: g)
        XCTAssertEqual(g.nodes[before...].filter { $0.op == .scale(-0.5) }.count, 1)
    }

    /// Building a graph with shapes that do not fit throws a GraphError that says why.
    func testShapeMismatchesThrow() {
        let g = Graph()
        let x = g.input("x", shape: [4, 3])
        let w = g.parameter("w", shape: [5, 4], initializer: .zeros)
        XCTAssertThrowsError(try g.matmul(x, w)) { XCTAssertTrue("\($0)".contains("inner sizes")) }
        let image = g.input("image", shape: [1, 1, 4, 4])
        let big = g.parameter("k", shape: [1, 1, 7, 7], initializer: .zeros)
        XCTAssertThrowsError(try g.conv2d(image, big)) { XCTAssertTrue("\($0)".contains("larger than")) }
        XCTAssertThrowsError(try g.maxPool(x, kernel: 2, stride: 2))
    }
}
