import CanopyCore
import CanopyCPU
@testable import CanopyOpenCL
import COpenCL
import Foundation
import XCTest

/// A plan's programs built as one (``CLProgramBundle``): which programs can share one, the bundle's source and
/// options, a prepared plan building one program whose kernels match the CPU's results, and a compile helper
/// building the parent's bundles from its job.
final class OpenCLProgramBundleTests: OpenCLScratchTestCase {
    private func key(_ file: CLKernelFile, _ options: String) -> CLProgramKey { CLProgramKey(file: file, options: options) }

    func testDistinctFilesWithAgreeingOptionsShareOneProgramAndTheOthersStayAlone() {
        let matmul = key(.matmul, "-cl-std=CL1.2 -DMM_TM=8 -DMM_TN=16")
        let loss = key(.loss, "-cl-std=CL1.2 -DROW_TEAM_WG=256")
        let elementwise = key(.elementwise, "-cl-std=CL1.2 -DROW_TEAM_WG=256")
        let optimizer = key(.optimizer, "-cl-std=CL1.2")
        let otherMatmul = key(.matmul, "-cl-std=CL1.2 -DMM_TM=4 -DMM_TN=8")      // the same file again
        let otherTeam = key(.softmax, "-cl-std=CL1.2 -DROW_TEAM_WG=64")           // a define given another value
        let otherStandard = key(.conv, "-cl-std=CL2.0")                           // other options differ
        let bundles = CLProgramBundle.grouping([matmul, loss, otherMatmul, elementwise, otherTeam, optimizer,
                                                otherStandard])
        XCTAssertEqual(bundles.count, 4)
        XCTAssertEqual(bundles[0].files, ["elementwise.cl", "loss.cl", "matmul.cl", "optimizer.cl"])
        XCTAssertEqual(bundles[0].options, "-cl-std=CL1.2 -DMM_TM=8 -DMM_TN=16 -DROW_TEAM_WG=256")
        XCTAssertEqual(bundles[0].label, "elementwise+loss+matmul+optimizer.cl")
        XCTAssertEqual(bundles[1...].map(\.members), [[otherMatmul], [otherTeam], [otherStandard]])
        XCTAssertEqual(bundles[1].options, otherMatmul.options, "a program alone keeps its own options")
        // The same programs in another order make the same bundle (the same source: the caches find it again).
        XCTAssertEqual(CLProgramBundle.grouping([optimizer, elementwise, matmul, loss]), [bundles[0]])
        XCTAssertEqual(CLProgramBundle.grouping([loss]), [CLProgramBundle(members: [loss], options: loss.options)])
        XCTAssertEqual(CLProgramBundle.grouping([]), [])
    }

    func testABundlesSourceHasTheSharedHelpersOnceAndEachFileOnce() throws {
        let sources = KernelSources(directory: nil)
        let bundle = CLProgramBundle.grouping([key(.matmul, "-cl-std=CL1.2"), key(.loss, "-cl-std=CL1.2")])[0]
        let text = try sources.programSource(of: bundle)
        XCTAssertEqual(text.components(separatedBy: "#line 1 \"common.cl\"").count - 1, 1)
        for file in ["matmul.cl", "loss.cl"] {
            XCTAssertEqual(text.components(separatedBy: "#line 1 \"\(file)\"").count - 1, 1, file)
            XCTAssertTrue(text.contains(try sources.source(of: file)), file)
        }
        // A bundle of one is its file's own program, as built without bundles.
        let alone = CLProgramBundle.grouping([key(.loss, "-cl-std=CL1.2")])[0]
        XCTAssertEqual(try sources.programSource(of: alone), try sources.programSource(of: "loss.cl"))
    }

    /// Every kernel file in one program, with the backend's options for each, builds and has every kernel of every
    /// file: no two files define the same helper or kernel name, whichever of them a plan bundles.
    func testEveryFileBuildsInOneProgram() throws {
        let backend = try OpenCLTesting.skipWithoutDevice {
            try OpenCLBackend(device: .environment, options: OpenCLBackendOptions(cacheDirectory: nil))
        }
        let keys = CLKernelFile.allCases.map { key($0, backend.tunables.options(for: $0)) }
        let bundles = CLProgramBundle.grouping(keys)
        XCTAssertEqual(bundles.count, 1, "the default tunables agree across files: \(bundles.map(\.label))")
        let program = try CLCompiler.build(source: try KernelSources(directory: nil).programSource(of: bundles[0]),
                                           file: bundles[0].label, options: bundles[0].options, device: backend.device)
        defer { clReleaseProgram(program) }
        let names = Set(try CLProgramCache.kernelNames(of: program))
        for file in CLKernelFile.allCases {
            XCTAssertTrue(Set(try backend.programs.kernelNames(in: file, options: backend.tunables.options(for: file)))
                .isSubset(of: names), "\(file.rawValue)'s kernels in the bundle")
        }
    }

    /// dense 12→7 → ReLU → dense 7→5 → softmax cross-entropy → masked mean, with every parameter's gradient,
    /// trained one Adam step (matmul.cl, elementwise.cl, loss.cl, optimizer.cl …).
    private func step(on backend: Backend) throws -> (Executor, [Value]) {
        let g = Graph()
        let x = g.input("x", shape: [9, 12])
        let w1 = g.parameter("w1", shape: [12, 7], initializer: .heUniform(fanIn: 12))
        let w2 = g.parameter("w2", shape: [7, 5], initializer: .heUniform(fanIn: 7))
        let logits = try g.matmul(g.unary(.relu, g.matmul(x, w1)), w2)
        let mask = g.input("mask", shape: [9])
        let rows = try g.softmaxCrossEntropy(logits: logits, labels: g.input("labels", shape: [9]), mask: mask)
        let loss = try g.maskedMean(rows.rowLoss, mask: mask).loss
        let all = try Autodiff.gradients(of: [(loss, g.input("seed", shape: [1]))], withRespectTo: g.parameters, in: g)
        let outputs = [loss] + g.parameters.compactMap { all[$0] }
        let store = try ParameterStore(graph: g, backend: backend)
        let executor = try Executor(graph: g, backend: backend, parameters: store, outputs: outputs, mode: .training)
        try executor.setInput("x", (0..<108).map { Float($0 % 11) / 11 - 0.3 })
        try executor.setInput("labels", (0..<9).map { Float($0 % 5) })
        try executor.setInput("mask", (0..<9).map { $0 == 4 ? 0 : 1 })
        try executor.setInput("seed", [1])
        return (executor, outputs)
    }

    func testAPreparedPlanBuildsOneProgramWhoseKernelsMatchTheCPU() throws {
        let backend = try OpenCLTesting.skipWithoutDevice {
            try OpenCLBackend(device: .environment, options: OpenCLBackendOptions(cacheDirectory: nil))
        }
        let (executor, outputs) = try step(on: backend)
        let files = Set(backend.preparedWarmups.map(\.file))
        XCTAssertGreaterThanOrEqual(files.count, 3, "the plan should use several kernel files: \(files)")
        XCTAssertEqual(backend.compileStatistics.builtFromSource, 1, "one program for \(files.sorted())")
        try executor.run()
        XCTAssertEqual(backend.compileStatistics.builtFromSource, 1, "running the plan built another program")
        let (cpu, cpuOutputs) = try step(on: CPUBackend())
        try cpu.run()
        for (value, cpuValue) in zip(outputs, cpuOutputs) {
            let a = try executor.read(value), b = try cpu.read(cpuValue)
            XCTAssertEqual(a.count, b.count)
            for (p, q) in zip(a, b) { XCTAssertEqual(p, q, accuracy: 1e-4) }
        }
    }

    func testAHelperJobCarriesTheBundlesAndItsReplayBuildsThem() throws {
        let backend = try OpenCLTesting.skipWithoutDevice {
            try OpenCLBackend(device: .environment, options: OpenCLBackendOptions(cacheDirectory: nil))
        }
        _ = try step(on: backend)
        let warmups = backend.preparedWarmups
        var keys: [CLProgramKey] = []
        for key in warmups.compactMap(\.programKey) where !keys.contains(key) { keys.append(key) }
        let bundles = CLProgramBundle.grouping(keys)
        XCTAssertEqual(bundles.count, 1)
        XCTAssertGreaterThan(bundles[0].members.count, 1)

        let job = CLWarmupJob(platform: 0, device: 0, launches: warmups, bundles: bundles.map(CLWarmupBundle.init))
        let decoded = try JSONDecoder().decode(CLWarmupJob.self, from: try JSONEncoder().encode(job))
        XCTAssertEqual(decoded.bundles?.compactMap(\.bundle), bundles)
        // A job written without bundles (an older parent) still decodes: every program from its own file.
        let plain = try JSONEncoder().encode(CLWarmupJob(platform: 0, device: 0, launches: warmups))
        XCTAssertNil(try JSONDecoder().decode(CLWarmupJob.self, from: plain).bundles)

        let other = try CLDevice(selector: .platformDevice(platform: backend.deviceInfo.platformIndex,
                                                           device: backend.deviceInfo.deviceIndex), environment: [:])
        let ran = OpenCLCompileHelper.replay(warmups, bundles: bundles, on: other, sources: KernelSources(directory: nil))
        XCTAssertEqual(ran, warmups.count, "a recorded launch could not be replayed from the bundle")
    }

    /// Each call of prepare makes its own bundles, whenever it comes: the same plans make the same programs in
    /// every run (and so find them in the driver's and the disk cache), and a helper told them builds the same.
    func testEachPreparedBatchIsItsOwnProgramWhateverTheTiming() throws {
        let backend = try OpenCLTesting.skipWithoutDevice {
            try OpenCLBackend(device: .environment, options: OpenCLBackendOptions(cacheDirectory: nil))
        }
        let tunables = backend.tunables
        func key(_ file: CLKernelFile) -> CLProgramKey { CLProgramKey(file: file, options: tunables.options(for: file)) }
        let first = [key(.matmul), key(.loss)], second = [key(.optimizer), key(.loss), key(.elementwise)]
        XCTAssertEqual(backend.programs.bundles(for: first).map(\.files), [["loss.cl", "matmul.cl"]])
        backend.programs.prepare(first)
        // Queued while the first is still building: still a program of its own, without the file already started.
        XCTAssertEqual(backend.programs.bundles(for: second).map(\.files), [["elementwise.cl", "optimizer.cl"]])
        backend.programs.prepare(second)
        XCTAssertEqual(backend.compileStatistics.builtFromSource, 2)
        for key in first + second { XCTAssertTrue(backend.programs.has(key)) }
        XCTAssertNotNil(try backend.programs.builtKernel(CLKernels.adamw, options: tunables.options(for: .optimizer)))
        XCTAssertNotNil(try backend.programs.builtKernel(CLKernels.matmulNt, options: tunables.options(for: .matmul)))
        XCTAssertEqual(backend.programs.bundles(for: first + second), [], "everything is built")
    }
}
