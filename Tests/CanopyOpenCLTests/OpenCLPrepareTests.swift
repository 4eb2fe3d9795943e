import CanopyCore
import CanopyCPU
@testable import CanopyOpenCL
import Foundation
import XCTest

/// Preparing a plan (``OpenCLBackend/prepare(kernels:)``, called by the executor): the programs a plan needs are
/// built ahead of its first launch and nothing more is built when it runs; preparing runs nothing; binaries are
/// saved once a step repeats, and a damaged cache file is still rejected and rebuilt.
final class OpenCLPrepareTests: OpenCLScratchTestCase {
    /// A fresh backend (no programs in memory) with its own disk cache, or none; binaries in the cache on every
    /// driver unless `caching` says otherwise.
    private func freshBackend(cache: URL?, caching: OpenCLBinaryCaching = .always) throws -> OpenCLBackend {
        try OpenCLTesting.skipWithoutDevice {
            try OpenCLBackend(device: .environment, options: OpenCLBackendOptions(cacheDirectory: cache, binaryCaching: caching))
        }
    }

    /// A small training step touching five kernel files (conv, pool, element-wise, matmul, loss):
    /// conv 3×3 → ReLU → max-pool → dense → softmax cross-entropy → masked mean, and every parameter's gradient.
    private struct Step {
        let graph = Graph()
        let loss: Value
        let gradients: [Value]

        init() throws {
            let g = graph
            let x = g.input("x", shape: [4, 1, 6, 6])
            let w = g.parameter("w", shape: [3, 1, 3, 3], initializer: .heUniform(fanIn: 9))
            let v = g.parameter("v", shape: [27, 5], initializer: .heUniform(fanIn: 27))
            let h = try g.flatten(try g.maxPool(g.unary(.relu, try g.conv2d(x, w, padding: 1)), kernel: 2, stride: 2))
            let logits = try g.matmul(h, v)
            let rows = try g.softmaxCrossEntropy(logits: logits, labels: g.input("labels", shape: [4]),
                                                 mask: g.input("mask", shape: [4]))
            loss = try g.maskedMean(rows.rowLoss, mask: g.input("mask", shape: [4])).loss
            let all = try Autodiff.gradients(of: [(loss, g.input("seed", shape: [1]))], withRespectTo: g.parameters, in: g)
            gradients = g.parameters.compactMap { all[$0] }
        }

        func executor(on backend: Backend) throws -> Executor {
            let store = try ParameterStore(graph: graph, backend: backend)
            let executor = try Executor(graph: graph, backend: backend, parameters: store, outputs: [loss] + gradients,
                                        mode: .training)
            try executor.setInput("x", (0..<144).map { Float($0 % 13) / 13 - 0.4 })
            try executor.setInput("labels", [0, 3, 1, 4])
            try executor.setInput("mask", [1, 1, 1, 0])
            try executor.setInput("seed", [1])
            return executor
        }
    }

    func testPreparedPlanRunsWithoutBuildingAnythingMore() throws {
        let backend = try freshBackend(cache: nil)
        let step = try Step()
        let executor = try step.executor(on: backend)   // plans, then prepares
        XCTAssertEqual(backend.launchCount, 0, "preparing must not launch anything")
        let prepared = backend.compileStatistics     // waits for the background builds
        print("after preparing: \(prepared); \(backend.preparedLaunches.count) launch shapes rehearsed")
        XCTAssertEqual(prepared.builtFromSource, 1, "conv, pool, element-wise, matmul and loss as one program")
        XCTAssertFalse(backend.preparedLaunches.isEmpty)

        try executor.run()
        let loss = try executor.read(step.loss)[0]
        XCTAssertTrue(loss.isFinite && loss > 0)
        XCTAssertGreaterThan(backend.launchCount, 0)
        XCTAssertEqual(backend.compileStatistics, prepared, "running the prepared plan built another program")

        // The same step on the CPU: preparing changed nothing that runs.
        let cpu = try step.executor(on: CPUBackend())
        try cpu.run()
        XCTAssertEqual(try executor.read(step.loss)[0], try cpu.read(step.loss)[0], accuracy: 1e-4)
        for gradient in step.gradients {
            let a = try executor.read(gradient), b = try cpu.read(gradient)
            XCTAssertEqual(a.count, b.count)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-4) }
        }
    }

    func testPreparingRunsNothingAndChangesNoBuffer() throws {
        let backend = try freshBackend(cache: nil)
        let param = try backend.makeBuffer([1, 2, 3]), grad = try backend.makeBuffer([1, 1, 1])
        let velocity = try backend.makeBuffer(count: 3), filled = try backend.makeBuffer(count: 4)
        let hyper = SGDHyperparameters(learningRate: 0.5, momentum: 0.9, weightDecay: 0)
        try backend.prepare(kernels: [
            .fill(y: filled, value: 7, count: 4),
            .sgdUpdate(param: param, grad: grad, velocity: velocity, count: 3, hyper: hyper),
        ])
        XCTAssertEqual(backend.launchCount, 0)
        XCTAssertEqual(try backend.download(filled), [0, 0, 0, 0])
        XCTAssertEqual(try backend.download(param), [1, 2, 3])
        XCTAssertEqual(backend.compileStatistics.builtFromSource, 1, "elementwise.cl and optimizer.cl as one program")
        // An invalid call is left for its real launch to report, not thrown by prepare.
        XCTAssertNoThrow(try backend.prepare(kernels: [.fill(y: filled, value: 1, count: 99)]))
        XCTAssertThrowsError(try backend.execute(.fill(y: filled, value: 1, count: 99)))
    }

    func testPreparedBackendSavesOnceAStepRepeatsAndTheNextLoadsEverything() throws {
        let cache = try temporaryDirectory("prepared-cache")
        let step = try Step()
        let first = try freshBackend(cache: cache)
        let executor = try step.executor(on: first)
        try executor.run()
        _ = try executor.read(step.loss)
        // The first step ran kernels for the first time: nothing is saved yet (saving would hold up its compiles).
        let early = try binaries(in: cache)
        XCTAssertTrue(early.isEmpty, "saved during the first step: \(early)")
        try executor.run()
        _ = try executor.read(step.loss)   // a step with nothing new: saves, in the background
        let statistics = first.compileStatistics
        print("first backend: \(statistics)")
        XCTAssertEqual(statistics.binariesSaved, statistics.builtFromSource)
        XCTAssertEqual(try binaries(in: cache).count, statistics.builtFromSource)

        let second = try freshBackend(cache: cache)
        let warm = try step.executor(on: second)
        try warm.run()
        XCTAssertEqual(try warm.read(step.loss)[0], try executor.read(step.loss)[0])
        let again = second.compileStatistics
        print("second backend: \(again)")
        XCTAssertEqual(again.builtFromSource, 0, "the second backend compiled a program")
        XCTAssertEqual(again.loadedFromBinary, statistics.builtFromSource)
        XCTAssertEqual(again.binariesSaved, 0, "the saved binaries lacked a kernel the step runs")
    }

    /// On a driver that keeps compiled kernels itself (PoCL), `.automatic` writes no binaries (making one would
    /// compile every kernel of the program again), only records of what the driver compiled, and a second backend
    /// builds from the driver's cache: it counts no program as compiled. On other drivers it keeps binaries.
    func testAutomaticCachingLeavesCompiledKernelsToADriverThatKeepsThem() throws {
        let cache = try temporaryDirectory("automatic-cache")
        let step = try Step()
        let first = try freshBackend(cache: cache, caching: .automatic)
        let executor = try step.executor(on: first)
        try executor.run()
        try executor.run()
        _ = try executor.read(step.loss)
        let statistics = first.compileStatistics
        print("first backend, automatic caching: \(statistics)")
        guard first.deviceInfo.keepsCompiledKernels(environment: ProcessInfo.processInfo.environment) else {
            XCTAssertEqual(try binaries(in: cache).count, statistics.builtFromSource)
            return
        }
        XCTAssertEqual(try binaries(in: cache), [], "binaries written for a driver that caches its kernels")
        let records = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".compiled") }
        XCTAssertEqual(records.count, statistics.builtFromSource)
        XCTAssertEqual(statistics.binariesSaved, statistics.builtFromSource)

        let second = try freshBackend(cache: cache, caching: .automatic)
        let warm = try step.executor(on: second)
        try warm.run()
        XCTAssertEqual(try warm.read(step.loss)[0], try executor.read(step.loss)[0])
        let again = second.compileStatistics
        print("second backend, automatic caching: \(again)")
        XCTAssertEqual(again.builtFromSource, 0)
        XCTAssertEqual(again.builtFromDriverCache, statistics.builtFromSource)
        XCTAssertEqual(again.binariesSaved, 0, "the records lacked a kernel the step runs")
    }

    func testDamagedCacheFileIsRejectedAndRebuiltWhenPreparing() throws {
        let cache = try temporaryDirectory("damaged-prepared")
        let step = try Step()
        do {
            let first = try freshBackend(cache: cache)
            try step.executor(on: first).run()
            first.waitForDiskCache()
        }
        let files = try binaries(in: cache)
        XCTAssertGreaterThanOrEqual(files.count, 1)
        let victim = cache.appendingPathComponent(try XCTUnwrap(files.first { $0.contains("matmul") }))
        let original = try Data(contentsOf: victim)
        var damaged = original
        damaged[damaged.count / 2] ^= 0xFF   // one flipped byte: the checksum no longer matches
        try damaged.write(to: victim)

        let second = try freshBackend(cache: cache)
        let executor = try step.executor(on: second)
        let prepared = second.compileStatistics
        print("after a damaged file: \(prepared)")
        XCTAssertEqual(prepared.rejectedCacheFiles, 1)
        XCTAssertEqual(prepared.builtFromSource, 1)
        XCTAssertEqual(prepared.loadedFromBinary, files.count - 1)
        try executor.run()
        _ = try executor.read(step.loss)
        XCTAssertEqual(second.compileStatistics.binariesSaved, 1, "the rebuilt program should replace the damaged file")
        XCTAssertNotEqual(try Data(contentsOf: victim), damaged)

        let third = try freshBackend(cache: cache)
        _ = try step.executor(on: third)
        XCTAssertEqual(third.compileStatistics.builtFromSource, 0)
        XCTAssertEqual(third.compileStatistics.rejectedCacheFiles, 0)
    }

    func testProgramThatFailsToBuildInTheBackgroundThrowsAtItsLaunch() throws {
        let kernels = try temporaryDirectory("broken-kernels")
        try "// no shared helpers\n".write(to: kernels.appendingPathComponent("common.cl"), atomically: true, encoding: .utf8)
        try """
            __kernel void canopy_fill(__global float* y, const float value, const int count) {
                y[get_global_id(0)] = value + canopy_undeclared_thing;
            }
            """.write(to: kernels.appendingPathComponent("elementwise.cl"), atomically: true, encoding: .utf8)
        let backend = try OpenCLTesting.skipWithoutDevice {
            try OpenCLBackend(device: .environment, options: OpenCLBackendOptions(kernelDirectory: kernels, cacheDirectory: nil))
        }
        let y = try backend.makeBuffer(count: 3)
        XCTAssertNoThrow(try backend.prepare(kernels: [.fill(y: y, value: 1, count: 3)]), "prepare reports no build failure")
        XCTAssertThrowsError(try backend.execute(.fill(y: y, value: 1, count: 3))) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("elementwise.cl") && text.contains("canopy_undeclared_thing"), text)
        }
    }

    private func binaries(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".bin") }.sorted()
    }
}
