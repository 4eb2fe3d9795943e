import CanopyCore

/// Writes the part of a Canopy ``Graph`` that a set of values depends on as ONNX nodes, lowering each graph node
/// once, after the nodes it reads (see `lower(_:)` in `ONNXOps.swift` for the table of ops).
///
/// The graph is built twice, for batches of one and of two rows: a dimension that differs between the two is the
/// batch dimension of that value, which becomes dynamic (`-1` in a reshape's target, `batch` in value infos).
final class ONNXGraphWalk {
    /// The graph exported, built for one row per batch.
    let graph: Graph
    /// The same graph built for two rows per batch (same nodes), to find each value's batch dimension.
    let pairGraph: Graph
    /// The nodes and initializers written so far.
    var builder = ONNXGraphBuilder()
    /// The name of each graph input that the ONNX graph provides (the model's input after its feature transform).
    var inputs: [String: String] = [:]
    /// Values of constant graph inputs (``ModelGraph/constants``), written as initializers when read.
    let constants: [String: [Float]]
    /// Each parameter's values by name, written as initializers named as in `parameters.safetensors`.
    let parameters: [String: [Float]]
    /// Where errors say the graph came from (the model file).
    let source: String
    private var lowered: [Int: [String?]] = [:]

    init(graph: Graph, pairGraph: Graph, constants: [String: [Float]], parameters: [String: [Float]],
         source: String) throws {
        guard graph.nodes.count == pairGraph.nodes.count else {
            throw ONNXExportError("\(source): the graph has \(graph.nodes.count) nodes for one row per batch but "
                + "\(pairGraph.nodes.count) for two, so its batch dimension cannot be found")
        }
        self.graph = graph
        self.pairGraph = pairGraph
        self.constants = constants
        self.parameters = parameters
        self.source = source
    }

    /// Lowers, in graph order, every node that `values` depend on, so that each node's inputs are lowered
    /// before it (no lowering recurses). An input the exported graph does not provide lowers to no output (see
    /// the `.input` case of `lower(_:)`); a node that reads one fails in ``name(of:)``.
    func lowerAncestors(of values: [Value]) throws {
        var marks = [Bool](repeating: false, count: graph.nodes.count)
        for value in values { marks[value.node] = true }
        for index in stride(from: graph.nodes.count - 1, through: 0, by: -1) where marks[index] {
            for input in graph.nodes[index].inputs { marks[input.node] = true }
        }
        for index in marks.indices where marks[index] && lowered[index] == nil {
            lowered[index] = try lower(index)
        }
    }

    /// The ONNX name of `value`, lowering its node (and the nodes it reads) first if needed.
    func name(of value: Value) throws -> String {
        if lowered[value.node] == nil { lowered[value.node] = try lower(value.node) }
        guard let outputs = lowered[value.node], value.output < outputs.count, let name = outputs[value.output] else {
            if case let .input(name) = graph.nodes[value.node].op {
                throw error(at: value.node, "the inference graph reads input '\(name)', which the exported model "
                    + "has no way to get")
            }
            throw error(at: value.node, "its output \(value.output) is computed only in training, yet an inference "
                + "value reads it")
        }
        return name
    }

    /// The dimension of `value` that grows with the batch, or nil when its shape does not depend on the batch.
    func batchAxis(of value: Value) throws -> Int? {
        let one = graph.shape(of: value), two = pairGraph.shape(of: value)
        let differing = one.indices.filter { one[$0] != two[$0] }
        guard one.count == two.count, differing.count <= 1 else {
            throw error(at: value.node, "its shape \(one) (\(two) for two rows) mixes the batch into several "
                + "dimensions, which a dynamic batch cannot express")
        }
        return differing.first
    }

    /// `value`'s shape with its batch dimension written as -1 (a reshape target).
    func dynamicShape(of value: Value) throws -> [Int] {
        var shape = graph.shape(of: value)
        if let axis = try batchAxis(of: value) { shape[axis] = -1 }
        return shape
    }

    /// An error naming the model file, the node's op and where the node came from.
    func error(at node: Int, _ message: String) -> ONNXExportError {
        let label = graph.nodes[node].label
        return ONNXExportError("\(source): cannot export node %\(node) \(graph.nodes[node].op.name)"
            + (label.isEmpty ? "" : " (\(label))") + ": " + message)
    }
}
