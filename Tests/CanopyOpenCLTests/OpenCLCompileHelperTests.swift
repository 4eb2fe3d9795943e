import CanopyCore
import CanopyCPU
@testable import CanopyOpenCL
import COpenCL
import Foundation
import XCTest

/// The compile helper (``OpenCLCompileHelper``): a preparing backend records every launch shape with its
/// arguments' lengths; replaying them elsewhere runs every launch in bounds and changes nothing in the backend
/// that prepared them; a test runner never starts a helper; and the `canopy` executable started as a helper fills
/// the driver's kernel cache with the kernels of the job and removes the job file.
final class OpenCLCompileHelperTests: OpenCLScratchTestCase {
    /// dense 12→7 → ReLU → dense 7→5 → softmax cross-entropy → masked mean, with every parameter's gradient.
    private struct Step {
        let graph = Graph()
        let loss: Value
        let gradients: [Value]

        init() throws {
            let g = graph
            let x = g.input("x", shape: [9, 12])
            let w1 = g.parameter("w1", shape: [12, 7], initializer: .heUniform(fanIn: 12))
            let w2 = g.parameter("w2", shape: [7, 5], initializer: .heUniform(fanIn: 7))
            let logits = try g.matmul(g.unary(.relu, g.matmul(x, w1)), w2)
            let mask = g.input("mask", shape: [9])
            let rows = try g.softmaxCrossEntropy(logits: logits, labels: g.input("labels", shape: [9]), mask: mask)
            loss = try g.maskedMean(rows.rowLoss, mask: mask).loss
            let all = try Autodiff.gradients(of: [(loss, g.input("seed", shape: [1]))], withRespectTo: g.parameters, in: g)
            gradients = g.parameters.compactMap { all[$0] }
        }

        func executor(on backend: Backend) throws -> Executor {
            let store = try ParameterStore(graph: graph, backend: backend)
            let executor = try Executor(graph: graph, backend: backend, parameters: store, outputs: [loss] + gradients,
                                        mode: .training)
            try executor.setInput("x", (0..<108).map { Float($0 % 11) / 11 - 0.3 })
            try executor.setInput("labels", (0..<9).map { Float($0 % 5) })
            try executor.setInput("mask", (0..<9).map { $0 == 4 ? 0 : 1 })
            try executor.setInput("seed", [1])
            return executor
        }

        func results(_ executor: Executor) throws -> [[Float]] {
            try ([loss] + gradients).map { try executor.read($0) }
        }
    }

    private func freshBackend(cache: URL?) throws -> OpenCLBackend {
        try OpenCLTesting.skipWithoutDevice {
            try OpenCLBackend(device: .environment, options: OpenCLBackendOptions(cacheDirectory: cache))
        }
    }

    func testPreparingRecordsEveryLaunchWithItsArgumentsAndStartsNoHelperInATestRunner() throws {
        let backend = try freshBackend(cache: try temporaryDirectory("helper-cache"))
        _ = try Step().executor(on: backend)
        let warmups = backend.preparedWarmups
        XCTAssertFalse(warmups.isEmpty)
        // One entry per kernel, options and shape, covering every shape the rehearsal saw.
        XCTAssertEqual(Set(warmups.map { CLLaunchShape(kernel: $0.kernel, global: $0.global, local: $0.local) }),
                       backend.preparedLaunches)
        for warmup in warmups {
            let signature = try XCTUnwrap(CLKernels.byName[warmup.kernel])
            XCTAssertEqual(warmup.programKey, CLProgramKey(file: signature.file, options: warmup.options),
                           warmup.kernel)
            XCTAssertEqual(warmup.arguments.count, signature.parameters.count, warmup.kernel)
            for argument in warmup.arguments {
                if case let .buffer(count) = argument { XCTAssertGreaterThan(count, 0, warmup.kernel) }
            }
        }
        // This process never called serveIfAsked(): re-running the test runner as a helper would run the tests.
        XCTAssertNil(backend.compileHelper)
        XCTAssertFalse(OpenCLCompileHelper.isUseful(for: backend.deviceInfo,
                                                    environment: [OpenCLCompileHelper.switchVariable: "1"]))
        let job = CLWarmupJob(platform: 0, device: 1, launches: warmups)
        let decoded = try JSONDecoder().decode(CLWarmupJob.self, from: try JSONEncoder().encode(job))
        XCTAssertEqual(decoded.launches, warmups)
    }

    func testReplayingOnAnotherContextRunsEveryLaunchAndChangesNothingHere() throws {
        let backend = try freshBackend(cache: nil)
        let step = try Step()
        let executor = try step.executor(on: backend)
        try executor.run()
        let before = try step.results(executor)

        // A context of its own, as the helper process opens: every recorded launch runs on its own buffers.
        let other = try CLDevice(selector: .platformDevice(platform: backend.deviceInfo.platformIndex,
                                                           device: backend.deviceInfo.deviceIndex), environment: [:])
        let ran = OpenCLCompileHelper.replay(backend.preparedWarmups, on: other, sources: KernelSources(directory: nil))
        XCTAssertEqual(ran, backend.preparedWarmups.count, "a recorded launch could not be replayed")

        XCTAssertEqual(try step.results(executor), before, "replaying changed this backend's buffers")
        try executor.run()
        let again = try step.results(executor)
        let cpu = try step.executor(on: CPUBackend())
        try cpu.run()
        for (a, b) in zip(again, try step.results(cpu)) {
            XCTAssertEqual(a.count, b.count)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-4) }
        }
    }

    func testTheCanopyExecutableServesAJobAndFillsTheDriversCache() throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("canopy")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw XCTSkip("the canopy executable is not built next to the tests (\(executable.path))")
        }
        let backend = try freshBackend(cache: nil)
        _ = try Step().executor(on: backend)
        let info = backend.deviceInfo
        let directory = try temporaryDirectory("helper-job")
        let job = directory.appendingPathComponent("job.json")
        try JSONEncoder().encode(CLWarmupJob(platform: info.platformIndex, device: info.deviceIndex,
                                             launches: backend.preparedWarmups)).write(to: job)
        let driverCache = directory.appendingPathComponent("pocl")
        var environment = ProcessInfo.processInfo.environment
        environment[OpenCLCompileHelper.jobVariable] = job.path
        environment["POCL_CACHE_DIR"] = driverCache.path
        environment["POCL_KERNEL_CACHE"] = nil
        let process = Process()
        process.executableURL = executable
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: job.path), "the helper leaves its job file")

        guard info.keepsCompiledKernels(environment: environment) else { return }
        // PoCL keeps one shared object per kernel and work-group shape under POCL_CACHE_DIR.
        let compiled = Set((FileManager.default.enumerator(atPath: driverCache.path)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".so") }.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent })
        print("the helper compiled \(compiled.sorted())")
        XCTAssertEqual(compiled, Set(backend.preparedWarmups.map(\.kernel)))
    }
}
