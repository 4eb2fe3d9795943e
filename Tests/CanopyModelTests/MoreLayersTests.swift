import XCTest
@testable import CanopyModel

/// The layers of issue 7 in model files: leaky_relu, elu, silu, avgpool, global_avgpool, softmax and reshape —
/// both ways of writing each, shapes, descriptions and parameter counts in the summary, and placed errors.
final class MoreLayersTests: XCTestCase {
    /// A model file with `shared` and one head spliced in.
    func model(input: String = "[1, 8, 8]", shared: String,
               head: String = "  d: {head: [{dense: 10}], loss: cross_entropy}") -> String {
        """
        name: s
        data: {source: builtin:digits}
        input: {shape: \(input)}
        shared: \(shared)
        tasks:
        \(head)
        train: {optimizer: adam, batch_size: 4, epochs: 1}
        """
    }

    func testShapesDescriptionsAndParameterCounts() throws {
        let shared = """
            [{conv2d: {filters: 4, kernel: 3, padding: 1}}, leaky_relu, {avgpool: 2}, {elu: {alpha: 0.5}}, silu,
             {reshape: [64]}, {reshape: [4, 4, 4]}, {avgpool: {kernel: 3, stride: 1}}, global_avgpool, {dense: 8},
             softmax, {leaky_relu: 0.2}, elu]
            """
        let summary = try summarize(try parseModel(model(shared: shared)))
        XCTAssertEqual(summary.shared.map(\.outputShape),
                       [[4, 8, 8], [4, 8, 8], [4, 4, 4], [4, 4, 4], [4, 4, 4], [64], [4, 4, 4], [4, 2, 2], [4], [8],
                        [8], [8], [8]])
        XCTAssertEqual(summary.shared.map(\.description),
                       ["conv2d 4×3×3 s1 p1", "leaky_relu 0.01", "avgpool 2×2 s2", "elu 0.5", "silu", "reshape 64",
                        "reshape 4×4×4", "avgpool 3×3 s1", "global_avgpool", "dense 8", "softmax", "leaky_relu 0.2",
                        "elu 1.0"])
        XCTAssertEqual(summary.shared.map(\.parameterCount), [40, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0])
        XCTAssertEqual(summary.totalParameterCount, 40 + 40 + 90)
        let table = summary.render()
        for word in ["leaky_relu 0.01", "avgpool 2×2 s2", "global_avgpool", "reshape 4×4×4", "softmax", "silu"] {
            XCTAssertTrue(table.contains(word), "the summary lacks '\(word)':\n\(table)")
        }
    }

    /// The bare word, the shorthand and the mapping read the same layer, with PyTorch's defaults.
    func testEveryFormReadsTheSameLayer() throws {
        func layer(_ written: String) throws -> LayerKind {
            try parseModel(model(shared: "[\(written), flatten]")).shared[0].kind
        }
        XCTAssertEqual(try layer("leaky_relu"), .leakyRelu(slope: 0.01))
        XCTAssertEqual(try layer("{leaky_relu: 0.2}"), .leakyRelu(slope: 0.2))
        XCTAssertEqual(try layer("{leaky_relu: {slope: 0.2}}"), .leakyRelu(slope: 0.2))
        XCTAssertEqual(try layer("elu"), .elu(alpha: 1))
        XCTAssertEqual(try layer("{elu: {alpha: 0.5}}"), .elu(alpha: 0.5))
        XCTAssertEqual(try layer("{elu: 0.5}"), .elu(alpha: 0.5))
        XCTAssertEqual(try layer("silu"), .activation(.silu))
        XCTAssertEqual(try layer("{avgpool: 2}"), .avgPool(kernel: 2, stride: 2))
        XCTAssertEqual(try layer("{avgpool: {kernel: 3, stride: 1}}"), .avgPool(kernel: 3, stride: 1))
        XCTAssertEqual(try layer("global_avgpool"), .globalAvgPool)
        XCTAssertEqual(try layer("{reshape: [8, 8]}"), .reshape([8, 8]))
        XCTAssertEqual(try layer("{reshape: {shape: [8, 8]}}"), .reshape([8, 8]))
        XCTAssertEqual(try parseModel(model(input: "[4]", shared: "[softmax]")).shared[0].kind, .softmax)
    }

    /// A graph node takes the settings beside its name, and the graph summary has its shapes.
    func testGraphNodes() throws {
        let text = model(shared: "[]").replacingOccurrences(of: "tasks:", with: """
            graph:
              - {name: p, op: avgpool, kernel: 2}
              - {name: g, op: global_avgpool, in: p}
              - {name: r, op: reshape, in: p, shape: [16]}
              - {name: e, op: elu, in: r, alpha: 0.3}
              - {name: both, op: concat, in: [e, g]}
            tasks:
            """)
        let summary = try summarize(try parseModel(text))
        let rows = summary.sections.flatMap(\.rows)
        XCTAssertEqual(Array(rows.map(\.description).prefix(4)), ["p = avgpool 2×2 s2 ← input", "g = global_avgpool ← p",
                                                             "r = reshape 16 ← p", "e = elu 0.3 ← r"])
        XCTAssertEqual(rows.map(\.outputShape), [[1, 4, 4], [1], [16], [16], [17]])
    }

    func testPlacedErrors() {
        assertModelError(base(replacing: "  - relu\n", with: "  - leaky_relu: {slope: -0.1}\n"), line: 8,
                         keyPath: "shared[1].leaky_relu.slope", "leaky_relu's slope must be in [0, 1], got -0.1")
        assertModelError(base(replacing: "  - relu\n", with: "  - leaky_relu: 2\n"), line: 8,
                         keyPath: "shared[1].leaky_relu.slope", "slope must be in [0, 1]")
        assertModelError(base(replacing: "  - relu\n", with: "  - elu: {alpha: -1}\n"), line: 8,
                         keyPath: "shared[1].elu.alpha", "elu's alpha must be at least 0, got -1.0")
        assertModelError(base(replacing: "  - relu\n", with: "  - elu: {slope: 1}\n"), line: 8,
                         keyPath: "shared[1].elu.slope", "unknown key 'slope' (expected one of: alpha)")
        assertModelError(base(replacing: "- maxpool: 2", with: "- avgpool: 9"), line: 9,
                         keyPath: "shared[2].avgpool.kernel", "kernel 9 is larger than its input 8×8")
        assertModelError(base(replacing: "- maxpool: 2", with: "- avgpool: {kernel: 2, stride: 0}"), line: 9,
                         keyPath: "shared[2].avgpool.stride", "stride must be positive, got 0")
        assertModelError(model(input: "[64]", shared: "[{avgpool: 2}]"), line: 4, keyPath: "shared[0]",
                         "avgpool needs a [channels, height, width] input but gets 64")
        assertModelError(model(input: "[64]", shared: "[global_avgpool]"), line: 4, keyPath: "shared[0]",
                         "global_avgpool needs a [channels, height, width] input but gets 64")
        assertModelError(model(input: "[64]", shared: "[{global_avgpool: 2}]"), line: 4, keyPath: "shared[0].global_avgpool",
                         "'global_avgpool' takes no value")
        assertModelError(model(shared: "[softmax]"), line: 4, keyPath: "shared[0]",
                         "softmax needs a flat [features] input but gets 1×8×8")
        assertModelError(model(input: "[4]", shared: "[]", head: "  d: {head: [{dense: 10}, softmax], loss: cross_entropy}"),
                         line: 6, keyPath: "tasks.d.head[1]", "a cross_entropy head must end with a dense layer")
    }

    func testReshapeErrors() {
        assertModelError(base(replacing: "  - relu\n", with: "  - reshape: [5, 5]\n"), line: 8,
                         keyPath: "shared[1].reshape.shape", "reshape to 5×5 needs 25 elements, but its input 4×8×8 has 256")
        assertModelError(base(replacing: "  - relu\n", with: "  - reshape: [0, 256]\n"), line: 8,
                         keyPath: "shared[1].reshape.shape", "shape must be positive, got 0")
        assertModelError(base(replacing: "  - relu\n", with: "  - reshape: [1, 1, 4, 64]\n"), line: 8,
                         keyPath: "shared[1].reshape.shape", "reshape takes 1 to 3 sizes")
        assertModelError(base(replacing: "  - relu\n", with: "  - reshape: 256\n"), line: 8,
                         keyPath: "shared[1].reshape", "expected a list of integers, found")
        assertModelError(base(replacing: "  - relu\n", with: "  - reshape: [4, 2.5]\n"), line: 8,
                         keyPath: "shared[1].reshape[1]", "expected an integer, found '2.5'")
        assertModelError(base(replacing: "  - relu\n", with: "  - reshape\n"), line: 8, keyPath: "shared[1]",
                         "'reshape' needs a value, for example {reshape: [4, 8, 8]}")
    }
}
