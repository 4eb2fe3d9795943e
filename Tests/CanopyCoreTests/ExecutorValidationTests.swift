import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// A backend written outside Canopy, through the public protocol only, with no argument checks of its own: it
/// forwards to the CPU backend, except that its allocator hands out buffers one element short (a bug of the kind
/// a new backend has), and it counts kernel calls.
private final class UncheckedBackend: Backend {
    let inner = CPUBackend()
    private(set) var executed = 0
    var name: String { "unchecked" }
    var deviceDescription: String { "a third-party backend with no checks" }
    func makeBuffer(count: Int) throws -> DeviceBuffer { try inner.makeBuffer(count: max(count - 1, 1)) }
    func upload(_ values: UnsafeBufferPointer<Float>, to buffer: DeviceBuffer, offset: Int) throws {
        try inner.upload(values, to: buffer, offset: offset)
    }
    func download(_ buffer: DeviceBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>) throws {
        try inner.download(buffer, offset: offset, into: destination)
    }
    func execute(_ kernel: Kernel) throws {
        executed += 1
        try inner.execute(kernel)
    }
    func synchronize() throws {}
}

/// The Executor checks each planned call against its kernel's contract once, when it plans.
final class ExecutorValidationTests: XCTestCase {
    private func model() throws -> (Graph, Value) {
        let g = Graph()
        let x = g.input("x", shape: [4, 3])
        let w = g.parameter("w", shape: [3, 5], initializer: .heUniform(fanIn: 3))
        return (g, g.unary(.relu, try g.matmul(x, w)))
    }

    /// A third-party backend gets the contract's error from planning, before any kernel reaches it.
    func testThirdPartyBackendGetsContractErrorsFromPlanning() throws {
        let (g, out) = try model()
        let backend = UncheckedBackend()
        let store = try ParameterStore(graph: g, backend: backend)
        XCTAssertThrowsError(try Executor(graph: g, backend: backend, parameters: store, outputs: [out], mode: .training)) { error in
            guard case let BackendError.invalidArguments(kernel, reason)? = error as? BackendError else {
                return XCTFail("expected invalidArguments, got \(error)")
            }
            print("planning on a backend with short buffers: \(error)")
            XCTAssertEqual(kernel, "matmul")
            XCTAssertEqual(reason, "a holds 11 elements but the call needs 12")
        }
        XCTAssertEqual(backend.executed, 0, "no kernel should reach the backend")
    }

    /// Every call a training plan records (forward, backward, dropout, block copies, loss) satisfies its
    /// contract, so none writes over another of its operands: planning would have thrown otherwise.
    func testTrainingPlanSatisfiesEveryContract() throws {
        let g = Graph()
        let x = g.input("x", shape: [6, 4])
        let w = g.parameter("w", shape: [4, 8], initializer: .heUniform(fanIn: 4))
        let h = try g.dropout(g.unary(.gelu, try g.matmul(x, w)), probability: 0.25)
        let both = try g.concat([h, g.scale(h, by: 0.5)], axis: 1)
        let prediction = try g.slice(both, axis: 1, start: 4, length: 8)
        let targets = g.input("targets", shape: [6, 8]), mask = g.input("mask", shape: [6])
        let rowLoss = try g.meanSquaredError(predictions: prediction, targets: targets, mask: mask)
        let loss = try g.maskedMean(rowLoss, mask: mask).loss
        let seed = g.input("seed", shape: [1])
        let gradients = try Autodiff.gradients(of: [(loss, seed)], withRespectTo: [w], in: g)
        let backend = CPUBackend()
        let store = try ParameterStore(graph: g, backend: backend)
        let executor = try Executor(graph: g, backend: backend, parameters: store,
                                    outputs: [loss] + Array(gradients.values), mode: .training)
        XCTAssertGreaterThan(executor.plannedKernels.count, 10)
        for planned in executor.plannedKernels { XCTAssertNoThrow(try planned.validate()) }
    }
}
