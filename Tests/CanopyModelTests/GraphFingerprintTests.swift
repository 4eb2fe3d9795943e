import CanopyCore
import XCTest
@testable import CanopyModel

/// The graphs the builder makes, node by node, pinned by a fingerprint: op, inputs, output shapes and label of
/// every node of every example's training graph, and of a few scheme variants.
///
/// Node order matters beyond shapes: dropout draws its mask from the node's index, and parameters are
/// initialised in creation order, so a refactor of the builder must reproduce the graph exactly for runs to
/// train to the same numbers. The fingerprints were recorded from the builder as it was before layers became
/// definitions (issue 7); a change to one means a checkpoint or a run no longer reproduces.
final class GraphFingerprintTests: XCTestCase {
    /// FNV-1a (64-bit) of `lines`, in hexadecimal.
    static func hash(_ lines: [String]) -> String {
        String(FNV1a64.hash(lines.joined(separator: "\n").utf8), radix: 16)
    }

    /// The graph's hash (every node's op, inputs, output shapes and label), its node count, and the hash of the
    /// summary `canopy check` prints (every row, shape, parameter name and count).
    func fingerprint(_ spec: ModelSpec, training: Bool = true) throws -> String {
        let graph = try ModelGraph.build(spec, batchSize: 3, training: training).graph
        let nodes = graph.nodes.map { "\($0.op) \($0.inputs) \($0.outputShapes) \($0.label)" }
        // Parameters are trainable unless said otherwise (batch norm's running statistics); the flag is left out
        // when true, so that fingerprints recorded before the flag existed still hold.
        let summary = "\(try summarize(spec))".replacingOccurrences(of: ", trainable: true", with: "")
        return "\(Self.hash(nodes))/\(graph.nodes.count)/\(Self.hash([summary]))"
    }

    /// The MMoE and OMoE examples' graphs changed once on purpose (issue 8): experts of one dense layer and
    /// activations are one wide product (`appendFusedExperts`); their summaries, parameters and initial values did not.
    /// Every graph with relu changed once more (issue 8): relu's derivative reads its output in place of its input
    /// (the same bits, `y > 0` exactly where `x > 0`), so that a dense layer's product, bias and relu can run as
    /// one kernel; node order, count and summaries did not change.
    func testExampleGraphsAreUnchanged() throws {
        let expected: [String: String] = [
            "cross-stitch-multidigits.yaml": "a58d808205b81aa1/181/11a2ce0272fa8581",
            "digits-csv.yaml": "505a39517e43317a/67/b945255cb7d0f884",
            "digits-mlp.json": "157853395a123e0a/98/ed5561b9ff39aea1",
            "digits-residual-graph.yaml": "f6f0c6559318b979/173/e6cc6456b8367d71",
            "digits-task-gating.yaml": "5fa74e8855579046/168/3999126d20dce3f3",
            "digits.yaml": "ec8fef4a7c4e2d02/113/471d51cec3a2b994",
            "domain-adversarial.yaml": "ea4655e2535c0163/66/7466a5e103b50c60",
            "mmoe-synthetic.yaml": "ef33ed7a01751721/180/1f68e2e6bc93e5c5",
            "mtan-multidigits.yaml": "f28cba3ed43425f2/292/39a2496e7d581da2",
            "multidigits-pcgrad.yaml": "e4c70dffdb0d8a30/79/a1f4af4b179b5410",
            "omoe-synthetic.yaml": "86f83e83d928cf0a/169/356f9817f6fed511",
            "shared-bottom-synthetic.yaml": "aa3ba9f4ada96ad3/80/9e5b4123c4788198",
            "soft-sharing-multidigits.yaml": "c21f9e58c421b3a6/168/c4ffc2102ab8b9dc",
            "shapes-cnn.yaml": "7d9540aaa99e2038/251/66f4407d98b1ff08",
            "text-wordnet.yaml": "5e2c877de74eba36/58/83f8de14b3b7253a",
            "attention-sequences.yaml": "d3b23bf7601d72f0/236/2eb8c0d6771fda63",
        ]
        let folder = repositoryRoot.appendingPathComponent("Examples")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { ["yaml", "json"].contains($0.pathExtension) }.sorted { $0.path < $1.path }
        XCTAssertGreaterThanOrEqual(files.count, 10)
        for file in files {
            let spec = try ModelFile.load(contentsOf: file)
            let found = try fingerprint(spec)
            print("\"\(file.lastPathComponent)\": \"\(found)\",")
            XCTAssertEqual(found, expected[file.lastPathComponent], file.lastPathComponent)
        }
    }

    func testSchemeVariantGraphsAreUnchanged() throws {
        let variants: [(String, String)] = [
            ("mmoe", "mmoe: {experts: 3, expert: [{dense: 4}, relu, {dropout: 0.2}]}\ntask_gating: true"),
            ("omoe", "mmoe: {experts: 2, expert: [{dense: 4}], gates: one}"),
            ("stitch", "cross_stitch: {column: [{dense: 6}, relu, {dense: 5}, tanh]}"),
            ("soft", "soft_sharing: {column: [{dense: 6}, gelu, {dense: 3}], l2: 0.5}"),
            ("graph", """
                graph:
                  - {name: a, op: dense, units: 8}
                  - {name: r, op: relu}
                  - {name: s, op: add, in: [r, a]}
                  - {name: m, op: multiply, in: [s, a]}
                  - {name: c, op: concat, in: [m, input]}
                  - {name: d, op: dropout, p: 0.5}
                  - {name: b, op: dense, units: 3}
                """),
        ]
        let expected: [String: String] = [
            "mmoe": "5c6741190ff5dc2b/238/d4bcd3ed5b13ffd9",
            "omoe": "116c9b25002a80ca/135/278cc14bb2f7a163",
            "stitch": "1ea4792de0b2c09a/209/3aba76f2cd415997",
            "soft": "6d661fff9292cd85/190/58f7d45bb665e21b",
            "graph": "9072f17b875b49d6/133/d97c6342be9767e4",
            "convNodes": "c9e113d34c7b2ec8/20/58174629c000f949",
        ]
        for (name, scheme) in variants {
            let spec = try parseModel(base(replacing: "  - dense: 16\n", with: "  - dense: 16\n\(scheme)\n"))
            let found = try fingerprint(spec)
            print("\"\(name)\": \"\(found)\",")
            XCTAssertEqual(found, expected[name], name)
        }
        let convNodes = """
            name: g
            data: {source: builtin:digits}
            input: {shape: [1, 8, 8]}
            graph:
              - {name: c, op: conv2d, filters: 3, kernel: 3, padding: 1, stride: 1}
              - {name: p, op: maxpool, kernel: 2, stride: 2}
              - {name: q, op: maxpool, kernel: 2, in: input}
              - {name: j, op: concat, in: [p, q]}
              - {name: f, op: flatten}
              - {name: s, op: sigmoid}
            tasks:
              digit: {head: [{dense: 10}, {dropout: 0.1}], loss: cross_entropy}
            train: {optimizer: adam, batch_size: 4, epochs: 1}
            """
        let found = try fingerprint(try parseModel(convNodes), training: false)
        print("\"convNodes\": \"\(found)\",")
        XCTAssertEqual(found, expected["convNodes"])
    }
}
