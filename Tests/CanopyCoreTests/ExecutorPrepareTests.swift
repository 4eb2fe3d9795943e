import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// The executor hands its plan to ``Backend/prepare(kernels:)`` once, right after planning, and a backend that
/// does not implement it (the CPU backend) is unaffected.
final class ExecutorPrepareTests: XCTestCase {
    /// A CPU backend that records what it is asked to prepare.
    private final class PrepareRecorder: ForwardingBackend {
        var prepared: [[Kernel]] = []
        var executedBeforePrepare = 0
        init() { super.init(CPUBackend()) }
        override var name: String { "recorder" }
        override func execute(_ kernel: Kernel) throws {
            if prepared.isEmpty { executedBeforePrepare += 1 }
            try inner.execute(kernel)
        }
        override func prepare(kernels: [Kernel]) throws { prepared.append(kernels) }
    }

    func testExecutorPreparesExactlyItsPlannedKernels() throws {
        let g = Graph()
        let x = g.input("x", shape: [4, 6])
        let w = g.parameter("w", shape: [6, 3], initializer: .heUniform(fanIn: 6))
        let out = try g.dropout(g.unary(.tanh, try g.matmul(x, w)), probability: 0.25)
        let backend = PrepareRecorder()
        let store = try ParameterStore(graph: g, backend: backend)
        let executor = try Executor(graph: g, backend: backend, parameters: store, outputs: [out], mode: .training)
        XCTAssertEqual(backend.prepared.count, 1, "prepare should be called once, after planning")
        XCTAssertEqual(backend.executedBeforePrepare, 0, "planning ran a kernel before preparing")
        let names = backend.prepared[0].map(\.name)
        XCTAssertEqual(names, executor.plannedKernels.map(\.preparedKernelName))
        XCTAssertEqual(names, ["matmul", "unary.tanh", "dropout"])

        // Running does not prepare again.
        try executor.setInput("x", (0..<24).map { Float($0) / 24 })
        try executor.run(seed: 3)
        XCTAssertEqual(backend.prepared.count, 1)
    }

    func testCPUBackendPreparesNothingAndRunsTheSame() throws {
        let backend = CPUBackend()
        let y = try backend.makeBuffer(count: 3)
        try backend.prepare(kernels: [.fill(y: y, value: 2, count: 3)])
        XCTAssertEqual(try backend.download(y), [0, 0, 0], "the default prepare must not run anything")
    }
}

private extension PlannedKernel {
    var preparedKernelName: String {
        switch self {
        case let .fixed(kernel), let .stateUpdate(kernel): return kernel.name
        case .dropout: return "dropout"
        }
    }
}
