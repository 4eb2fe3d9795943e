import CanopyCore
import XCTest
@testable import CanopyModel

/// `conv2d` with rectangular kernels, strides, paddings and groups, and `conv1d`, in model files: the forms that
/// read them, shapes and parameters in the summary and the graph, and placed errors.
final class ConvLayerTests: XCTestCase {
    func model(input: String = "[4, 4, 4]", shared: String) -> String {
        """
        name: c
        data: {source: builtin:digits}
        input: {shape: \(input)}
        shared: \(shared)
        tasks:
          d: {head: [flatten, {dense: 10}], loss: cross_entropy}
        train: {optimizer: adam, batch_size: 4, epochs: 1}
        """
    }

    func testEveryFormReadsTheSameLayer() throws {
        func layer(_ written: String) throws -> LayerKind { try parseModel(model(shared: "[\(written)]")).shared[0].kind }
        XCTAssertEqual(try layer("{conv2d: {filters: 16, kernel: 3}}"), .conv2d(filters: 16, kernel: 3))
        XCTAssertEqual(try layer("{conv2d: {filters: 16, kernel: [3, 3], stride: [1, 1], padding: 0, groups: 1}}"),
                       .conv2d(filters: 16, kernel: 3))
        XCTAssertEqual(try layer("{conv2d: {filters: 4, kernel: [3, 5], stride: [1, 2], padding: [1, 2], groups: 2}}"),
                       .conv2d(filters: 4, kernel: SizePair(3, 5), stride: SizePair(1, 2), padding: SizePair(1, 2), groups: 2))
        XCTAssertEqual(try parseModel(model(input: "[64]", shared: "[{reshape: [4, 16]}, {conv1d: {filters: 6, kernel: 3, stride: 2, padding: 1, groups: 2, bias: false}}]")).shared[1].kind,
                       .conv1d(filters: 6, kernel: 3, stride: 2, padding: 1, groups: 2, bias: false))
        let text = model(shared: "[]").replacingOccurrences(of: "tasks:", with: """
            graph:
              - {name: a, op: conv2d, filters: 8, kernel: [1, 3], padding: [0, 1], groups: 4}
            tasks:
            """)
        guard case .graph(let nodes) = try parseModel(text).scheme else { return XCTFail("expected a graph") }
        XCTAssertEqual(nodes[0].op, .layer(.conv2d(filters: 8, kernel: SizePair(1, 3), padding: SizePair(0, 1), groups: 4)))
    }

    /// Rectangular, strided, grouped and depthwise convolutions: output shapes from the graph's rule, weights
    /// [F, C/G, KH, KW], and the op's settings in the graph.
    func testConv2dShapesAndParameters() throws {
        let shared = """
            [{conv2d: {filters: 8, kernel: [3, 1], stride: [2, 1], padding: [1, 0], groups: 2}},
             {conv2d: {filters: 8, kernel: 3, padding: 1, groups: 8, bias: false}},
             {conv2d: {filters: 2, kernel: [2, 4], stride: [1, 2]}}]
            """
        let summary = try summarize(try parseModel(model(shared: shared)))
        XCTAssertEqual(summary.shared.map(\.description),
                       ["conv2d 8×3×1 s2×1 p1×0 g2", "conv2d 8×3×3 s1 p1 g8 no bias", "conv2d 2×2×4 s1×2 p0"])
        XCTAssertEqual(summary.shared.map(\.outputShape), [[8, 2, 4], [8, 2, 4], [2, 1, 1]])
        XCTAssertEqual(summary.shared[0].parameterNames, ["shared.0.weight", "shared.0.bias"])
        XCTAssertEqual(summary.shared[0].parameterCount, 8 * 2 * 3 * 1 + 8)
        XCTAssertEqual(summary.shared[1].parameterNames, ["shared.1.weight"])
        XCTAssertEqual(summary.shared[1].parameterCount, 8 * 1 * 3 * 3)

        let graph = try ModelGraph.build(try parseModel(model(shared: shared)), batchSize: 3).graph
        var shapes: [String: [Int]] = [:]
        var initializers: [String: ParameterInit] = [:]
        for node in graph.nodes {
            if case let .parameter(name, initializer) = node.op {
                shapes[name] = node.outputShapes[0]; initializers[name] = initializer
            }
        }
        XCTAssertEqual(shapes["shared.0.weight"], [8, 2, 3, 1])
        XCTAssertEqual(shapes["shared.1.weight"], [8, 1, 3, 3])
        XCTAssertEqual(shapes["shared.2.weight"], [2, 8, 2, 4])
        XCTAssertEqual(initializers["shared.0.weight"], .heUniform(fanIn: 2 * 3 * 1))
        XCTAssertEqual(initializers["shared.1.weight"], .heUniform(fanIn: 9))
        let settings = graph.nodes.compactMap { node -> ConvSettings? in
            if case let .conv2d(settings) = node.op { return settings } else { return nil }
        }
        XCTAssertEqual(settings, [ConvSettings(strideHeight: 2, strideWidth: 1, padHeight: 1, padWidth: 0, groups: 2),
                                  ConvSettings(stride: 1, padding: 1, groups: 8),
                                  ConvSettings(strideHeight: 1, strideWidth: 2, padHeight: 0, padWidth: 0)])
        XCTAssertEqual("\(Op.conv2d(ConvSettings(stride: 2, padding: 1)))", "conv2d(stride: 2, padding: 1)",
                       "the square one-group op prints as it always has (graph fingerprints)")
        XCTAssertEqual("\(settings[0])", "stride: 2×1, padding: 1×0, groups: 2")
    }

    /// conv1d: [C, L] → [F, L'], weight [F, C/G, K] stored as written and viewed as [F, C/G, 1, K] in the graph.
    func testConv1dShapesAndParameters() throws {
        let text = model(input: "[64]", shared: "[{reshape: [4, 16]}, {conv1d: {filters: 6, kernel: 5, stride: 2, padding: 2, groups: 2}}, relu]")
        let summary = try summarize(try parseModel(text))
        XCTAssertEqual(summary.shared[1].description, "conv1d 6×5 s2 p2 g2")
        XCTAssertEqual(summary.shared.map(\.outputShape), [[4, 16], [6, 8], [6, 8]])
        XCTAssertEqual(summary.shared[1].parameterNames, ["shared.1.weight", "shared.1.bias"])
        XCTAssertEqual(summary.shared[1].parameterCount, 6 * 2 * 5 + 6)

        let graph = try ModelGraph.build(try parseModel(text), batchSize: 3).graph
        let weight = try XCTUnwrap(graph.nodes.firstIndex { if case .parameter("shared.1.weight", _) = $0.op { true } else { false } })
        XCTAssertEqual(graph.nodes[weight].outputShapes, [[6, 2, 5]])
        XCTAssertEqual(graph.nodes[weight].op, .parameter("shared.1.weight", .heUniform(fanIn: 2 * 5)))
        let conv = try XCTUnwrap(graph.nodes.first { if case .conv2d = $0.op { true } else { false } })
        XCTAssertEqual(conv.op, .conv2d(ConvSettings(strideHeight: 1, strideWidth: 2, padHeight: 0, padWidth: 2, groups: 2)))
        XCTAssertEqual(conv.outputShapes, [[3, 6, 1, 8]])
        XCTAssertEqual(conv.inputs.map { graph.shape(of: $0) }, [[3, 4, 1, 16], [6, 2, 1, 5]])
    }

    func testPlacedErrors() {
        assertModelError(model(input: "[1, 8, 8]", shared: "[{conv2d: {filters: 4, kernel: 3, groups: 2}}]"), line: 4,
                         keyPath: "shared[0].conv2d.groups", "groups (2) must divide the input's 1 channels")
        assertModelError(model(shared: "[{conv2d: {filters: 6, kernel: 3, groups: 4}}]"), line: 4,
                         keyPath: "shared[0].conv2d.groups", "groups (4) must divide the filters (6)")
        assertModelError(model(shared: "[{conv2d: {filters: 6, kernel: 3, groups: 0}}]"), line: 4,
                         keyPath: "shared[0].conv2d.groups", "groups must be positive, got 0")
        assertModelError(model(shared: "[{conv2d: {filters: 4, kernel: [3, 5, 7]}}]"), line: 4, column: 40,
                         keyPath: "shared[0].conv2d.kernel",
                         "expected an integer or a list of 2 integers [height, width], found a list of 3")
        assertModelError(model(shared: "[{conv2d: {filters: 4, kernel: [3, x]}}]"), line: 4,
                         keyPath: "shared[0].conv2d.kernel[1]", "expected an integer, found 'x'")
        assertModelError(model(shared: "[{conv2d: {filters: 4, kernel: 3, stride: {h: 1}}}]"), line: 4,
                         keyPath: "shared[0].conv2d.stride", "expected an integer or a list of 2 integers [height, width], found")
        assertModelError(model(shared: "[{conv2d: {filters: 4, kernel: [3, 2], stride: [1, 0]}}]"), line: 4,
                         keyPath: "shared[0].conv2d.stride", "stride must be positive, got 0")
        assertModelError(model(shared: "[{conv2d: {filters: 4, kernel: [3, 2], padding: [1, 2]}}]"), line: 4,
                         keyPath: "shared[0].conv2d.padding", "padding must be smaller than the kernel (3×2), got 1×2")
        assertModelError(model(shared: "[{conv2d: {filters: 4, kernel: [2, 7]}}]"), line: 4,
                         keyPath: "shared[0].conv2d.kernel", "kernel 2×7 is larger than its padded input 4×4")
        assertModelError(model(shared: "[{conv1d: {filters: 4, kernel: 3}}]"), line: 4, keyPath: "shared[0]",
                         "conv1d needs a [channels, length] input but gets 4×4×4")
        assertModelError(model(input: "[64]", shared: "[{reshape: [4, 16]}, {conv1d: {filters: 4, kernel: [1, 3]}}]"), line: 4,
                         keyPath: "shared[1].conv1d.kernel", "expected an integer")
        assertModelError(model(input: "[64]", shared: "[{reshape: [4, 16]}, {conv1d: {filters: 4, kernel: 3, padding: 3}}]"), line: 4,
                         keyPath: "shared[1].conv1d.padding", "padding must be smaller than the kernel (3), got 3")
        assertModelError(model(input: "[64]", shared: "[{reshape: [4, 16]}, {conv1d: {filters: 6, kernel: 3, groups: 3}}]"), line: 4,
                         keyPath: "shared[1].conv1d.groups", "groups (3) must divide the input's 4 channels")
        assertModelError(model(input: "[8]", shared: "[{reshape: [4, 2]}, {conv1d: {filters: 4, kernel: 5, padding: 1}}]"), line: 4,
                         keyPath: "shared[1].conv1d.kernel", "kernel 5 is longer than its padded input 4")
    }
}
