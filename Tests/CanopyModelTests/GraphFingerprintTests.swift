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
    func testExampleGraphsAreUnchanged() throws {
        let expected: [String: String] = [
            "cross-stitch-multidigits.yaml": "b06c8bbd43e1b4b2/181/11a2ce0272fa8581",
            "digits-csv.yaml": "c37a776af1e1b085/67/b945255cb7d0f884",
            "digits-mlp.json": "54aac2f692c4d016/98/ed5561b9ff39aea1",
            "digits-residual-graph.yaml": "1bcfda405a7e9431/173/e6cc6456b8367d71",
            "digits-task-gating.yaml": "f3a2a7cc8aa00d68/168/3999126d20dce3f3",
            "digits.yaml": "ec92f0c690344c86/113/471d51cec3a2b994",
            "domain-adversarial.yaml": "145ec0940b76e7e2/66/7466a5e103b50c60",
            "mmoe-synthetic.yaml": "acf8bf979cb8c880/180/1f68e2e6bc93e5c5",
            "mtan-multidigits.yaml": "267f9738348c5a0/292/39a2496e7d581da2",
            "multidigits-pcgrad.yaml": "5be22f56886b6474/79/a1f4af4b179b5410",
            "omoe-synthetic.yaml": "4eb71287b5a07d8b/169/356f9817f6fed511",
            "shared-bottom-synthetic.yaml": "5372bafb04f200be/80/9e5b4123c4788198",
            "soft-sharing-multidigits.yaml": "e01cbb3b24aceb1e/168/c4ffc2102ab8b9dc",
            "shapes-cnn.yaml": "626db1e624a85681/251/66f4407d98b1ff08",
            "text-wordnet.yaml": "6f2193a8d5e97b47/58/83f8de14b3b7253a",
            "attention-sequences.yaml": "6e593638ef8e5860/236/2eb8c0d6771fda63",
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
            "mmoe": "bf848830ca15b577/238/d4bcd3ed5b13ffd9",
            "omoe": "f676afbf62d12bad/135/278cc14bb2f7a163",
            "stitch": "f654e3a949f9c7a7/209/3aba76f2cd415997",
            "soft": "2c627bff3206c470/190/58f7d45bb665e21b",
            "graph": "1077590e97184d2/133/d97c6342be9767e4",
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
