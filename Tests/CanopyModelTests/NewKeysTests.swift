import XCTest
@testable import CanopyModel

/// The multi-task keys parse into the spec types, with their documented defaults, in YAML and JSON alike.
final class NewKeysTests: XCTestCase {
    func testDefaults() throws {
        let spec = try parseModel(baseYAML)
        XCTAssertEqual(spec.scheme, .hard)
        XCTAssertFalse(spec.taskGating)
        XCTAssertEqual(spec.transfer, TransferSpec())
        XCTAssertEqual(spec.data.missing, [])
        XCTAssertEqual(spec.data.options, [:])
        XCTAssertEqual(spec.train.weighting, .fixed)
        XCTAssertEqual(spec.train.schedule, ScheduleSpec(kind: .constant, warmupEpochs: 0))
        XCTAssertNil(spec.train.clipNorm)
        XCTAssertNil(spec.train.earlyStopping)
        XCTAssertNil(spec.tasks[0].input)
        XCTAssertNil(spec.tasks[0].classWeights)
        XCTAssertEqual(DataSource.builtinNames, ["digits", "multidigits", "synthetic-mmoe"])
    }

    func testTrainingOptions() throws {
        func train(_ lines: String) throws -> TrainSpec {
            try parseModel(base(replacing: "  epochs: 2", with: "  epochs: 5\n\(lines)")).train
        }
        XCTAssertEqual(try train("  weighting: uncertainty").weighting, .uncertainty)
        XCTAssertEqual(try train("  weighting: {mgda: }").weighting, .mgda)
        XCTAssertEqual(try train("  weighting: pcgrad").weighting, .pcGrad)
        XCTAssertEqual(try train("  weighting: gradnorm").weighting, .gradNorm(alpha: 1.5, learningRate: 0.025))
        XCTAssertEqual(try train("  weighting: {gradnorm: {alpha: 0.5}}").weighting,
                       .gradNorm(alpha: 0.5, learningRate: 0.025))
        XCTAssertEqual(try train("  weighting: {dwa: {temperature: 3}}").weighting,
                       .dynamicWeightAverage(temperature: 3))
        XCTAssertEqual(try train("  weighting: dwa").weighting, .dynamicWeightAverage(temperature: 2))
        XCTAssertEqual(try train("  schedule: {step: {every_epochs: 2, gamma: 0.5}}\n  warmup_epochs: 1").schedule,
                       ScheduleSpec(kind: .step(everyEpochs: 2, gamma: 0.5), warmupEpochs: 1))
        XCTAssertEqual(try train("  schedule: cosine").schedule.kind, .cosine(minimum: 0))
        XCTAssertEqual(try train("  schedule: {cosine: {min_lr: 0.001}}").schedule.kind, .cosine(minimum: 0.001))
        XCTAssertEqual(try train("  clip_norm: 1.5").clipNorm, 1.5)
    }

    func testEarlyStoppingMonitors() throws {
        func stopping(_ monitor: String) throws -> EarlyStoppingSpec? {
            try parseModel(base(replacing: "  epochs: 2", with: "  epochs: 2\n  early_stopping: {monitor: \(monitor), patience: 4}"))
                .train.earlyStopping
        }
        let accuracy = try stopping("digit.accuracy")
        XCTAssertEqual(accuracy, EarlyStoppingSpec(task: "digit", metric: "accuracy", patience: 4))
        XCTAssertEqual(accuracy?.maximizes, true)
        XCTAssertEqual(try stopping("value.loss"), EarlyStoppingSpec(task: "value", metric: "loss", patience: 4))
        XCTAssertEqual(try stopping("value.mse")?.maximizes, false)
        XCTAssertEqual(try stopping("loss"), EarlyStoppingSpec(task: nil, metric: "loss", patience: 4))
    }

    func testDataTaskAndSchemeOptions() throws {
        let text = base(replacing: "  source: builtin:digits", with: """
              source: builtin:synthetic-mmoe
              missing: [NA, -1, "", 2.50]
              options: {correlation: -0.25, seed: 9}
            """)
            .replacingOccurrences(of: "shape: [1, 8, 8]", with: "shape: [1, 8, 8]\ntask_gating: true")
            .replacingOccurrences(of: "loss: cross_entropy}", with: "loss: cross_entropy, class_weights: balanced}")
        let spec = try parseModel(text)
        XCTAssertEqual(spec.data.source, .builtin("synthetic-mmoe"))
        XCTAssertEqual(spec.data.missing, ["NA", "-1", "", "2.50"], "numbers keep the text written")
        XCTAssertEqual(spec.data.options, ["correlation": -0.25, "seed": 9])
        XCTAssertEqual(spec.data.option("correlation"), -0.25)
        XCTAssertEqual(spec.data.option("rows"), 10_000, "defaults fill in")
        XCTAssertEqual(spec.data.option("features"), 100)
        XCTAssertEqual(spec.data.option("noise"), 0.01)
        XCTAssertNil(spec.data.option("colour"))
        XCTAssertTrue(spec.taskGating)
        XCTAssertEqual(spec.tasks[0].classWeights, .balanced)
        let single = try parseModel(base(replacing: "  source: builtin:digits", with: "  source: builtin:digits\n  missing: -1"))
        XCTAssertEqual(single.data.missing, ["-1"])
        let weights = (1...10).map(String.init).joined(separator: ", ")
        let explicit = try parseModel(base(replacing: "loss: cross_entropy}",
                                           with: "loss: cross_entropy, class_weights: [\(weights)]}"))
        XCTAssertEqual(explicit.tasks[0].classWeights, .explicit((1...10).map(Float.init)))
    }

    func testMixtureOfExpertsDecoded() throws {
        let spec = try parseModel(base(replacing: "tasks:", with: "mmoe:\n  experts: 3\n  expert: [{dense: 4}, relu]\n  gates: one\ntasks:"))
        guard case .mixtureOfExperts(let moe) = spec.scheme else { return XCTFail("expected mmoe") }
        XCTAssertEqual(moe.experts, 3)
        XCTAssertEqual(moe.gates, .one)
        XCTAssertEqual(moe.expert.map(\.kind), [.dense(units: 4), .activation(.relu)])
        XCTAssertEqual(moe.expert.map(\.keyPath), ["mmoe.expert[0]", "mmoe.expert[1]"])
        XCTAssertEqual(moe.location.line, 13)
        XCTAssertEqual(moe.expert[1].location.line, 14)
        let soft = try parseModel(base(replacing: "tasks:", with: "soft_sharing: {column: [{dense: 4}]}\ntasks:"))
        XCTAssertEqual(soft.scheme, .soft(SoftSharingSpec(column: [LayerSpec(kind: .dense(units: 4),
                                                                             keyPath: "soft_sharing.column[0]",
                                                                             location: SourceLocation(file: "t.yaml", line: 12, column: 25))],
                                                         l2: 0.01, traceNorm: 0,
                                                         location: SourceLocation(file: "t.yaml", line: 12, column: 15))))
    }

    func testJSONLoadsTheSameSchemes() throws {
        let json = """
            {
              "name": "j",
              "data": {"source": "builtin:multidigits", "options": {"rows": 300}, "missing": [-1, "NA"]},
              "input": {"shape": [1, 8, 16]},
              "shared": [{"conv2d": {"filters": 4, "kernel": 3, "padding": 1}}, "relu"],
              "graph": [
                {"name": "c", "op": "conv2d", "filters": 4, "kernel": 3, "padding": 1},
                {"name": "r", "op": "add", "in": ["c", "input"]},
                {"name": "f", "op": "flatten"}
              ],
              "task_gating": false,
              "tasks": {
                "left": {"head": [{"dense": 10}], "loss": "cross_entropy", "in": "f"},
                "right": {"head": [{"dense": 10}], "loss": "cross_entropy", "class_weights": "balanced"}
              },
              "train": {"optimizer": "adam", "batch_size": 8, "epochs": 3, "weighting": {"gradnorm": {"alpha": 1}},
                        "schedule": {"cosine": {"min_lr": 0}}, "warmup_epochs": 1, "clip_norm": 5,
                        "early_stopping": {"monitor": "right.accuracy", "patience": 2}}
            }
            """
        let spec = try parseModel(json, fileName: "j.json")
        XCTAssertEqual(spec.data.options, ["rows": 300])
        XCTAssertEqual(spec.data.missing, ["-1", "NA"])
        guard case .graph(let nodes) = spec.scheme else { return XCTFail("expected a graph") }
        XCTAssertEqual(nodes.map(\.name), ["c", "r", "f"])
        XCTAssertEqual(nodes.map(\.inputs), [["input"], ["c", "input"], ["r"]])
        XCTAssertEqual(nodes[1].op, .add)
        XCTAssertEqual(nodes[1].location, SourceLocation(file: "j.json", line: 8, column: 5))
        XCTAssertEqual(spec.tasks[0].input, "f")
        XCTAssertEqual(spec.train.weighting, .gradNorm(alpha: 1, learningRate: 0.025))
        XCTAssertEqual(spec.train.schedule, ScheduleSpec(kind: .cosine(minimum: 0), warmupEpochs: 1))
        XCTAssertEqual(spec.train.clipNorm, 5)
        XCTAssertEqual(spec.train.earlyStopping?.task, "right")
        let summary = try summarize(spec)
        XCTAssertEqual(summary.tasks.map(\.inputShape), [[512], [512]])
        XCTAssertEqual(summary.parameters.map(\.name).filter { $0.hasPrefix("graph.") },
                       ["graph.c.weight", "graph.c.bias"])
    }
}
