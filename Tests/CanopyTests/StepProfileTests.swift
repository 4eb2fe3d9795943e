import Canopy
import Foundation
import XCTest

/// `canopy check --plan`: training steps measured on a traced backend.
final class StepProfileTests: ScratchTestCase {
    /// The counts follow from the plan: one optimizer call over the arena of trained parameters (batch norm's
    /// running statistics are not trained), no buffer allocated once warm, the features and each task's labels and mask uploaded
    /// (fixed loss seeds only once), and one read for all the steps measured.
    func testOneStepIsCountedAndAllocatesNothingOnceWarm() throws {
        let spec = try ModelFile.parse(Self.smallModel().replacingOccurrences(of: "shared: [{dense: 16}, relu]",
                                                                            with: "shared: [{dense: 16}, batchnorm, relu]"),
                                       fileName: "m.yaml", baseDirectory: nil)
        let plan = try RunPlan(spec, device: nil)
        let profile = try StepProfile.measure(plan, on: CPUBackend())
        let calls = Dictionary(uniqueKeysWithValues: profile.kernelCalls.map { ($0.name, $0.count) })
        let trained = plan.model.graph.trainableParameters.count
        XCTAssertGreaterThan(trained, 1)
        XCTAssertEqual(calls["adamUpdate"], 1, "one update over the parameter arena: \(profile.lines)")
        XCTAssertEqual(calls["batchNormRunningUpdate"], 1)
        XCTAssertEqual(profile.buffersAllocated, 0)
        // features, the real-rows mask, and per task (2) labels and mask; fixed loss seeds were uploaded once
        XCTAssertEqual(profile.uploads, 2 + 2 * 2, profile.lines.joined(separator: "\n"))
        // Losses and outputs of all the measured steps come back in one read.
        XCTAssertGreaterThan(profile.steps, 1)
        XCTAssertEqual(profile.downloads, 1, profile.lines.joined(separator: "\n"))
        XCTAssertEqual(profile.kernelCallCount, profile.kernelCalls.map(\.count).reduce(0, +))
        // Every kernel called is timed, once per name, most time first.
        XCTAssertGreaterThan(profile.stepSeconds, 0)
        XCTAssertEqual(Set(profile.kernelSeconds.map(\.name)), Set(calls.keys))
        XCTAssertTrue(profile.kernelSeconds.allSatisfy { $0.seconds > 0 }, "\(profile.kernelSeconds)")
        XCTAssertEqual(profile.kernelSeconds.map(\.seconds), profile.kernelSeconds.map(\.seconds).sorted(by: >))
        XCTAssertTrue(profile.fusions.contains("1 optimizer update over \(trained) trained parameters (an arena)"),
                      "\(profile.fusions)")
        XCTAssertTrue(profile.fusions.contains("softmax with cross-entropy in one kernel (1 task)"), "\(profile.fusions)")
        // The two heads' input gradients: the second product accumulates into the first's buffer.
        XCTAssertTrue(profile.fusions.contains("1 gradient term computed into its sum, no add (task heads' input "
                                               + "gradients, mixtures' expert gradients)"), "\(profile.fusions)")
        XCTAssertNil(calls["binary.add"], profile.lines.joined(separator: "\n"))
        // Every dense layer's product takes its bias (and the activation after it) as its epilogue.
        let graph = plan.model.graph
        let dense = graph.nodes.filter { node in
            guard case .biasAdd = node.op, case .matmul = graph.node(of: node.inputs[0]).op else { return false }
            return true
        }.count
        XCTAssertEqual(dense, 3)
        XCTAssertEqual(calls["matmulBias"], dense, profile.lines.joined(separator: "\n"))
        XCTAssertEqual(calls["biasAdd"], 1, "batch norm's shift")
        XCTAssertTrue(profile.fusions.contains("\(dense) products with their bias and activation in one kernel (dense layers)"),
                      "\(profile.fusions)")
    }

    /// An MMoE's step: each task's softmax gate runs in its mixture's kernel and its gates gradient through the
    /// softmax in one kernel; the step records its tasks' losses, counts and outputs with one copy.
    func testMixtureOfExpertsGatesRunInTheirMixturesKernels() throws {
        let spec = try ModelFile.parse("""
            name: m
            data: {source: builtin:synthetic-mmoe}
            input: {shape: [100]}
            mmoe: {experts: 4, expert: [{dense: 16}, relu]}
            tasks:
              y1: {head: [{dense: 1}], loss: mse}
              y2: {head: [{dense: 1}], loss: mse}
            train: {optimizer: adam, batch_size: 16, epochs: 1}
            """, fileName: "m.yaml", baseDirectory: nil)
        let profile = try StepProfile.measure(try RunPlan(spec, device: nil), on: CPUBackend())
        let calls = Dictionary(uniqueKeysWithValues: profile.kernelCalls.map { ($0.name, $0.count) })
        XCTAssertEqual(calls["mixtureSoftmax"], 2, profile.lines.joined(separator: "\n"))
        XCTAssertEqual(calls["mixtureBackwardLogits"], 2)
        for unfused in ["softmax", "softmaxBackward", "mixture", "mixtureBackwardGates"] { XCTAssertNil(calls[unfused], unfused) }
        // Experts of 16 units: their weights and biases stack as views of the arena (no gaps on the cpu backend).
        XCTAssertEqual(calls["copyBlock"], 1, "one record copy a step")
        XCTAssertTrue(profile.fusions.contains("2 softmax gates in their mixtures' kernel, 2 gates gradients through the "
                                               + "softmax in one kernel"), "\(profile.fusions)")
        // The experts' gradient sums the two mixtures' values gradients: the second adds into the first's buffer.
        XCTAssertEqual(calls["mixtureBackwardValues"], 2)
        XCTAssertNil(calls["binary.add"], profile.lines.joined(separator: "\n"))
        XCTAssertTrue(profile.fusions.contains { $0.hasPrefix("1 gradient term computed into its sum") }, "\(profile.fusions)")
    }

    /// Timing waits for each call on the wrapped backend, and its counts are those of an untimed run.
    func testTimedKernelsAreWaitedForAndCounted() throws {
        let tracer = TracingBackend(wrapping: CPUBackend())
        let x = try tracer.makeBuffer(count: 33), y = try tracer.makeBuffer(count: 33)
        tracer.timesKernels = true
        try tracer.execute(.fill(y: x, value: 2, count: 33))
        try tracer.execute(.unary(.relu, x: x, y: y, count: 33))
        try tracer.execute(.unary(.relu, x: y, y: x, count: 33))
        XCTAssertEqual(tracer.kernelCalls, ["fill": 1, "unary.relu": 2])
        XCTAssertEqual(Set(tracer.kernelSeconds.keys), Set(tracer.kernelCalls.keys))
        XCTAssertEqual(tracer.synchronizations, 0, "the waits after timed calls are the tracer's own, not counted")
        tracer.reset()
        XCTAssertTrue(tracer.kernelSeconds.isEmpty)
    }

    func testCheckPrintsThePlanWhenAsked() throws {
        let model = try write(Self.smallModel())
        let plain = try canopy("check", model)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertFalse(plain.stdout.contains("kernel calls"))
        let planned = try canopy("check", model, "--plan")
        XCTAssertEqual(planned.status, 0, planned.stderr)
        XCTAssertTrue(planned.stdout.contains("step: ") && planned.stdout.contains(" kernel calls ("), planned.stdout)
        XCTAssertTrue(planned.stdout.contains("0 buffers allocated after warm-up"), planned.stdout)
        XCTAssertTrue(planned.stdout.contains("a step; time by kernel (each call waited for): "), planned.stdout)
        XCTAssertTrue(planned.stdout.contains("matmulBias"), planned.stdout)
    }
}
