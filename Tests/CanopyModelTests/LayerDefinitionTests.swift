import CanopyCore
import XCTest
@testable import CanopyModel

/// What every layer definition promises, checked for each type the registry lists (so a new layer is tested by
/// adding it): both model-file forms read the same layer, the words reach the messages and the docs, and sizes
/// that overflow are refused rather than trapped.
final class LayerDefinitionTests: XCTestCase {
    func testRegistryWordsInMessageOrder() {
        XCTAssertEqual(LayerRegistry.keywords,
                       ["dense", "conv2d", "maxpool", "dropout", "flatten", "relu", "sigmoid", "tanh", "gelu", "silu",
                        "leaky_relu", "elu", "avgpool", "global_avgpool", "softmax", "reshape",
                        "layernorm", "batchnorm", "gradient_reversal",
                        "conv1d", "embedding", "multihead_attention", "sequence_mean"])
        XCTAssertEqual(Set(LayerRegistry.keywords).count, LayerRegistry.keywords.count, "a word names one layer")
        for syntax in LayerRegistry.syntaxes {
            XCTAssertTrue(LayerRegistry.reference.contains("- \(syntax.fullExample)"), syntax.keyword)
        }
        print(LayerRegistry.reference)
    }

    /// The spec a model file decodes to, before its shapes are checked.
    func decoded(_ text: String) throws -> ModelSpec {
        let root = try XCTUnwrap(try YAMLReader(fileName: "t.yaml").read(text))
        return try SpecDecoder(fileName: "t.yaml").modelSpec(root, baseDirectory: nil)
    }

    /// `shared: [<example>]` and `graph: [{name: n, op: <word>, <settings>}]` give the same layer, with the
    /// layer's own keyword and a description that starts with it.
    func testListAndGraphNodeFormsReadTheSameLayer() throws {
        for syntax in LayerRegistry.syntaxes {
            let listed = try decoded(base(replacing: "  - relu\n", with: "  - \(syntax.fullExample)\n")).shared[1].kind
            XCTAssertEqual(listed.keyword, syntax.keyword)
            XCTAssertTrue(listed.description.hasPrefix(syntax.keyword), listed.description)
            var settings = ""
            if syntax.example.hasPrefix("{") {
                settings = ", " + syntax.example.dropFirst().dropLast()
            } else if let shorthand = syntax.shorthand {
                settings = ", \(shorthand): \(syntax.example)"
            }
            let node = "graph: [{name: n, op: \(syntax.keyword)\(settings)}]"
            guard case .graph(let nodes) = try decoded(base(replacing: "tasks:", with: "\(node)\ntasks:")).scheme else {
                return XCTFail("\(syntax.keyword): expected a graph")
            }
            XCTAssertEqual(nodes[0].op, .layer(listed), syntax.keyword)
        }
    }

    func testBareWordsAndValuesFollowTheSyntax() {
        for syntax in LayerRegistry.syntaxes where syntax.needsValue {
            assertModelError(base(replacing: "- relu", with: "- \(syntax.keyword)"), line: 8, keyPath: "shared[1]",
                             "'\(syntax.keyword)' needs a value, for example \(syntax.fullExample)")
        }
        for syntax in LayerRegistry.syntaxes where syntax.settings.isEmpty {
            assertModelError(base(replacing: "- relu", with: "- \(syntax.keyword): 3"), line: 8,
                             keyPath: "shared[1].\(syntax.keyword)", "'\(syntax.keyword)' takes no value")
        }
        assertModelError(base(replacing: "- dense: 16", with: "- dense: [16]"), line: 11, keyPath: "shared[4].dense",
                         "expected an integer, found a list")
        assertModelError(base(replacing: "- maxpool: 2", with: "- maxpool: {kernal: 2}"), line: 9,
                         keyPath: "shared[2].maxpool.kernal", "did you mean 'kernel'?")
        assertModelError(base(replacing: "{filters: 4, kernel: 3, padding: 1}", with: "4"), line: 7,
                         keyPath: "shared[0].conv2d", "expected conv2d's settings such as {filters: 16, kernel: 3")
    }

    /// README's layer list names every layer word, so the docs cannot fall behind the registry silently.
    func testReadmeNamesEveryLayer() throws {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for keyword in LayerRegistry.keywords {
            XCTAssertTrue(readme.contains("`\(keyword)"), "README.md does not mention the layer '\(keyword)'")
        }
    }

    /// A convolution whose weight would hold more than Int.max scalars is refused with the parameter limit,
    /// at the layer, without trapping and before anything of that size exists.
    func testOverflowingSizesAreRefusedNotTrapped() {
        let text = base(replacing: "[1, 8, 8]", with: "[64, 1, 1]")
            .replacingOccurrences(of: "conv2d: {filters: 4, kernel: 3, padding: 1}",
                                  with: "conv2d: {filters: 1048576, kernel: 1048576, padding: 1048575}")
        assertModelError(text, line: 7, keyPath: "shared[0]", "more than 2147483648 parameters",
                         "conv2d 1048576×1048576×1048576 s1 p1048575 on its input")
    }

    /// A spec built in code gets the layer checks from the builder itself, placed at the layer.
    func testTheBuilderChecksLayersOfSpecsBuiltInCode() throws {
        var spec = try parseModel(baseYAML)
        spec.shared[4] = LayerSpec(kind: .dense(units: 0), keyPath: "shared[4]")
        XCTAssertThrowsError(try ModelGraph.build(spec, batchSize: 2)) { error in
            XCTAssertEqual("\(error)", "t.yaml:11:12: shared[4].dense.units: units must be positive, got 0")
        }
        spec.shared[4] = LayerSpec(kind: .dense(units: 16), keyPath: "shared[4]")
        spec.tasks[0].head = [LayerSpec(kind: .dropout(2), keyPath: "tasks.digit.head[0]")]
        XCTAssertThrowsError(try ModelGraph.build(spec, batchSize: 2)) { error in
            XCTAssertEqual("\(error)", "t.yaml:13:18: tasks.digit.head[0].dropout: dropout probability must be in "
                               + "[0, 1), got 2.0")
        }
    }
}
