import XCTest
@testable import CanopyModel

/// Every model file shipped in Examples/ loads and summarizes.
final class ExamplesTests: XCTestCase {
    func testEveryExampleLoads() throws {
        let examples = repositoryRoot.appendingPathComponent("Examples")
        let files = try FileManager.default.contentsOfDirectory(at: examples, includingPropertiesForKeys: nil)
            .filter { ["yaml", "yml", "json"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        XCTAssertGreaterThanOrEqual(files.count, 3, "examples in \(examples.path)")
        for file in files {
            do {
                let summary = try summarize(try ModelFile.load(contentsOf: file))
                print("\(file.lastPathComponent): \(summary.totalParameterCount) parameters")
                XCTAssertGreaterThan(summary.totalParameterCount, 0)
            } catch {
                XCTFail("\(error)")
            }
        }
    }

    func testTheDefaultExamples() throws {
        let examples = repositoryRoot.appendingPathComponent("Examples")
        let cnn = try ModelFile.load(contentsOf: examples.appendingPathComponent("digits.yaml"))
        XCTAssertEqual(cnn.data.source, .builtin("digits"))
        XCTAssertEqual(cnn.tasks.map(\.name), ["digit", "parity", "value"])
        XCTAssertEqual(cnn.tasks.map(\.loss), [.crossEntropy, .crossEntropy, .mse])
        XCTAssertEqual(cnn.tasks[0].metrics, [.accuracy, .macroF1])
        XCTAssertEqual(try summarize(cnn).tasks.map(\.outputShape), [[10], [2], [1]])

        let mlp = try ModelFile.load(contentsOf: examples.appendingPathComponent("digits-mlp.json"))
        XCTAssertEqual(mlp.tasks.map(\.name), cnn.tasks.map(\.name))
        XCTAssertFalse(mlp.shared.contains { $0.kind.layer is Conv2DLayer })

        let csv = try ModelFile.load(contentsOf: examples.appendingPathComponent("digits-csv.yaml"))
        XCTAssertEqual(csv.data.source,
                       .csv(examples.appendingPathComponent("data/digits-sample.csv").standardizedFileURL))
    }
}

/// The multi-task examples: their schemes, data and the parameter budgets they are meant to have.
final class ExampleSchemesTests: XCTestCase {
    func load(_ name: String) throws -> (ModelSpec, ModelSummary) {
        let spec = try ModelFile.load(contentsOf: repositoryRoot.appendingPathComponent("Examples/\(name)"))
        let summary = try summarize(spec)
        print("\(name):\n\(summary.render())")
        return (spec, summary)
    }

    func testSyntheticMixtureExamples() throws {
        let (mmoe, mmoeSummary) = try load("mmoe-synthetic.yaml")
        XCTAssertEqual(mmoe.data.source, .builtin("synthetic-mmoe"))
        XCTAssertEqual(mmoe.data.option("correlation"), 0.5)
        XCTAssertEqual(mmoe.tasks.map(\.name), ["y1", "y2"])
        XCTAssertEqual(mmoe.train.batchSize, 128)
        XCTAssertEqual(mmoe.train.epochs, 20)
        guard case .mixtureOfExperts(let moe) = mmoe.scheme else { return XCTFail("expected mmoe") }
        XCTAssertEqual(moe.experts, 8)
        XCTAssertEqual(moe.gates, .perTask)
        XCTAssertEqual(mmoeSummary.parameters.filter { $0.name.hasPrefix("experts.") }.count, 16)
        XCTAssertEqual(mmoeSummary.parameters.filter { $0.name.hasPrefix("gates.") }.map(\.name),
                       ["gates.y1.weight", "gates.y1.bias", "gates.y2.weight", "gates.y2.bias"])
        XCTAssertEqual(mmoeSummary.totalParameterCount, 14834)

        let (_, omoe) = try load("omoe-synthetic.yaml")
        XCTAssertEqual(omoe.parameters.filter { $0.name.hasPrefix("gates.") }.map(\.name),
                       ["gates.all.weight", "gates.all.bias"])
        let (bottom, bottomSummary) = try load("shared-bottom-synthetic.yaml")
        XCTAssertEqual(bottom.scheme, .hard)
        let ratio = Double(bottomSummary.totalParameterCount) / Double(mmoeSummary.totalParameterCount)
        print("shared bottom / mmoe parameters: \(ratio)")
        XCTAssertEqual(ratio, 1, accuracy: 0.05, "comparable parameter budgets")
    }

    func testMultidigitsExamples() throws {
        let (stitch, stitchSummary) = try load("cross-stitch-multidigits.yaml")
        XCTAssertEqual(stitch.data.source, .builtin("multidigits"))
        XCTAssertEqual(stitch.input.shape, [1, 8, 16])
        XCTAssertEqual(stitch.tasks.map(\.name), ["left", "right"])
        guard case .crossStitch(let spec) = stitch.scheme else { return XCTFail("expected cross_stitch") }
        XCTAssertEqual(spec.unitsAfter, CrossStitchSpec.defaultUnitsAfter(column: spec.column))
        XCTAssertEqual(stitchSummary.parameters.filter { $0.name.hasPrefix("cross_stitch.") }.map(\.name),
                       ["cross_stitch.1.alpha", "cross_stitch.5.alpha"])
        XCTAssertEqual(stitchSummary.tasks.map(\.outputShape), [[10], [10]])

        let (soft, softSummary) = try load("soft-sharing-multidigits.yaml")
        guard case .soft(let towers) = soft.scheme else { return XCTFail("expected soft_sharing") }
        XCTAssertEqual(towers.l2, 0.01)
        XCTAssertEqual(softSummary.totalParameterCount + 8, stitchSummary.totalParameterCount,
                       "the same columns, without the two 2×2 units")

        let (pcgrad, _) = try load("multidigits-pcgrad.yaml")
        XCTAssertEqual(pcgrad.train.weighting, .pcGrad)
        XCTAssertEqual(pcgrad.scheme, .hard)
    }

    func testDigitsGatingAndGraphExamples() throws {
        let (gating, gatingSummary) = try load("digits-task-gating.yaml")
        XCTAssertTrue(gating.taskGating)
        XCTAssertEqual(gatingSummary.parameters.filter { $0.name.hasPrefix("gating.") }.map(\.count),
                       [4096, 64, 4096, 64, 4096, 64])

        let (graph, graphSummary) = try load("digits-residual-graph.yaml")
        guard case .graph(let nodes) = graph.scheme else { return XCTFail("expected a graph") }
        XCTAssertTrue(nodes.contains { $0.op == .add && $0.inputs.contains(GraphNodeSpec.inputName) }, "a residual add")
        XCTAssertTrue(nodes.contains { $0.op == .concat }, "a concat")
        let rows = graphSummary.sections[0].rows
        XCTAssertEqual(rows.first { $0.keyPath == "graph[7]" }?.outputShape, [32, 4, 4])
        XCTAssertEqual(graphSummary.tasks.map(\.inputShape), [[64], [64], [64]])
    }
}
