import CanopyCore
import XCTest
@testable import CanopyModel

/// The `mtan:` scheme in model files: its parameters (shared trunk, per-task attention modules and bridges),
/// who owns them, its defaults and its placed errors.
final class MTANTests: XCTestCase {
    func model(_ mtan: String, input: String = "[1, 8, 8]") -> String {
        """
        name: m
        data: {source: builtin:digits}
        input: {shape: \(input)}
        mtan: \(mtan)
        tasks:
          a: {head: [flatten, {dense: 10}], loss: cross_entropy}
          b: {head: [flatten, {dense: 2}], loss: cross_entropy}
        train: {optimizer: adam, batch_size: 4, epochs: 1}
        """
    }

    static let convolutional = """
        {trunk: [{conv2d: {filters: 4, kernel: 3, padding: 1}}, relu, {maxpool: 2}, {conv2d: {filters: 6, kernel: 3, padding: 1}}, relu], at: [1, 4]}
        """

    /// The trunk is shared (`trunk.<i>`); each task owns an attention module per point (MTAN's own layers: a 1×1
    /// convolution, batch norm, ReLU, then the 1×1 mask projection) and, after the first point, a bridge: a 3×3
    /// convolution with stride 2 (the trunk pooled by 2 in between) to the next point's channels.
    func testParametersAndOwners() throws {
        let summary = try summarize(try parseModel(model(Self.convolutional)))
        let names = summary.parameters.map(\.name)
        XCTAssertEqual(Array(names.prefix(4)), ["trunk.0.weight", "trunk.0.bias", "trunk.3.weight", "trunk.3.bias"])
        for task in ["a", "b"] {
            XCTAssertTrue(names.contains("mtan.\(task).0.attention.0.weight"))
            XCTAssertTrue(names.contains("mtan.\(task).0.attention.1.running_mean"))
            XCTAssertTrue(names.contains("mtan.\(task).0.mask.weight"))
            XCTAssertTrue(names.contains("mtan.\(task).1.bridge.weight"))
            XCTAssertFalse(names.contains("mtan.\(task).0.bridge.weight"), "the first point has no bridge")
            XCTAssertEqual(summary.owner(ofParameter: "mtan.\(task).1.mask.bias"), task)
        }
        XCTAssertNil(summary.owner(ofParameter: "trunk.0.weight"))
        let count = { (name: String) in summary.parameters.first { $0.name == name }!.count }
        XCTAssertEqual(count("mtan.a.1.bridge.weight"), 6 * 4 * 3 * 3)
        XCTAssertEqual(count("mtan.a.1.attention.0.weight"), 6 * (6 + 6), "the second module reads trunk ++ bridge")
        XCTAssertEqual(count("mtan.a.0.mask.weight"), 4 * 4)
        XCTAssertEqual(summary.tasks.map(\.inputShape), [[6, 4, 4], [6, 4, 4]])
        XCTAssertEqual(summary.sharedParameterCount, 4 * 9 + 4 + 6 * 4 * 9 + 6)
        XCTAssertTrue(summary.render().contains("attention at trunk[4] (per task ×2)"), summary.render())
    }

    /// Flat trunks: dense attention layers (or the file's own) and dense bridges; `at` defaults to the activations
    /// after a dense layer, and always the last layer.
    func testFlatTrunkDefaultsAndCustomAttention() throws {
        let spec = try parseModel(model("{trunk: [{dense: 16}, relu, {dense: 8}, tanh, dropout: 0.1]}", input: "[64]")
            .replacingOccurrences(of: "[flatten, ", with: "["))
        guard case .mtan(let mtan) = spec.scheme else { return XCTFail("expected mtan") }
        XCTAssertEqual(mtan.at, [1, 3, 4])
        let custom = try summarize(try parseModel(model("{trunk: [{dense: 16}, relu, {dense: 8}, relu], at: [1, 3], "
                                                         + "attention: [{dense: 5}, gelu]}", input: "[64]")
            .replacingOccurrences(of: "[flatten, ", with: "[")))
        let names = custom.parameters.map(\.name)
        XCTAssertTrue(names.contains("mtan.a.1.bridge.weight"))
        XCTAssertEqual(custom.parameters.first { $0.name == "mtan.b.1.attention.0.weight" }!.count, 5 * (8 + 8))
        XCTAssertEqual(custom.parameters.first { $0.name == "mtan.b.1.mask.weight" }!.count, 8 * 5)
    }

    func testFreezeMTANNamesTheTrunkAndTheAttention() throws {
        let summary = try summarize(try parseModel(model(Self.convolutional)))
        let frozen = summary.frozenParameterNames(["mtan"])
        XCTAssertTrue(frozen.contains("trunk.0.weight"))
        XCTAssertTrue(frozen.contains("mtan.b.1.bridge.weight"))
        XCTAssertFalse(frozen.contains { $0.hasPrefix("tasks.") })
    }

    func testPlacedErrors() {
        assertModelError(model("{trunk: [{dense: 4}, relu], at: [0]}", input: "[64]"), line: 4, keyPath: "mtan.at[0]",
                         "the last attention point must be the trunk's last layer (1)")
        assertModelError(model("{trunk: [{dense: 4}, relu], at: [2]}", input: "[64]"), line: 4, keyPath: "mtan.at[0]",
                         "layer index 2 is outside the trunk, which has 2 layers (0...1)")
        assertModelError(model("{trunk: [{dense: 4}, relu], at: [1, 0]}", input: "[64]"), line: 4,
                         keyPath: "mtan.at[1]", "indices must be in ascending order")
        assertModelError(model("{trunk: []}"), line: 4, keyPath: "mtan.trunk", "a trunk needs at least one layer")
        assertModelError(model("{trunk: [relu], attention: []}"), line: 4, keyPath: "mtan.attention",
                         "leave 'attention' out")
        assertModelError(model("{trunk: [relu], atention: [relu]}"), line: 4, keyPath: "mtan.atention",
                         "did you mean 'attention'?")
        assertModelError(model("{trunk: [{dense: 4}, relu, {reshape: [1, 2, 2]}, relu], at: [1, 3]}", input: "[64]"),
                         line: 4, keyPath: "mtan.at[1]", "attention cannot bridge flat features 4 to 1×2×2")
        assertModelError(model("{trunk: [relu, {conv2d: {filters: 2, kernel: 2}}, relu], at: [0, 2]}"), line: 4,
                         keyPath: "mtan.at[1]", "attention cannot bridge 1×8×8 to 2×7×7")
        assertModelError(model("{trunk: [relu], attention: [flatten]}"), line: 4, keyPath: "mtan.at[0]",
                         "the attention layers must keep the features' layout 1×8×8")
    }
}
