/// A mixture of experts' softmax gate in its mixture's kernel.
///
/// An MMoE gate is `softmax(x·Wᵀ + b)` read by its task's `mixture`, and its gradient is `mixtureBackwardGates`
/// read by `softmaxBackward`: four row passes over small matrices, each a kernel launch. Forward, the softmax
/// runs in the mixture's call (``Kernel/mixtureSoftmax(logits:values:gates:y:rows:experts:features:)``, at the
/// mixture's node) when the mixture is the first to read the gates: the gates are still written (the backward
/// pass reads them) and get their buffer there. Backward, the gates gradient runs in the softmax gradient's call
/// (``Kernel/mixtureBackwardLogits(values:gates:dy:dLogits:rows:experts:features:)``) when nothing else reads it
/// (one task's gate feeding one mixture), and it gets no buffer.
extension EpilogueFusion {
    mutating func findGateFusions(graph: Graph, order: [Int], readers: [Value: [Int]], onlyReader: (Value) -> Int?) {
        for index in order {
            let node = graph.nodes[index]
            switch node.op {
            case .softmax:
                let gates = Value(node: index)
                guard absorbed[index] == nil, node.outputShapes[0].count == 2, let first = readers[gates]?.min(),
                      case .mixture = graph.nodes[first].op, graph.nodes[first].inputs[0] == gates,
                      absorbed[first] == nil, softmaxGates[first] == nil else { continue }
                softmaxGates[first] = index
                absorbed[index] = first
            case .softmaxBackward:
                let source = node.inputs[1]
                guard source.output == 0, case .mixtureBackwardGates = graph.nodes[source.node].op,
                      onlyReader(source) == index, absorbed[source.node] == nil,
                      node.outputShapes[0].count == 2, node.outputShapes[0] == graph.shape(of: source) else { continue }
                gateGradients[index] = source.node
                absorbed[source.node] = index
            default:
                continue
            }
        }
    }

    /// The fused forward call at mixture node `index`, which computes softmax node `softmax`'s gates.
    static func kernel(mixture index: Int, softmax: Int, graph: Graph, buffer: (Value) throws -> DeviceBuffer) throws -> Kernel {
        let node = graph.nodes[index], values = graph.shape(of: node.inputs[1])
        guard values.count == 3 else { throw GraphError("internal: a fused mixture without values [N, E, F]") }
        return .mixtureSoftmax(logits: try buffer(graph.nodes[softmax].inputs[0]), values: try buffer(node.inputs[1]),
                               gates: try buffer(Value(node: softmax)), y: try buffer(Value(node: index)),
                               rows: values[0], experts: values[1], features: values[2])
    }

    /// The fused backward call at softmax-gradient node `index`, which computes gates-gradient node `gatesGradient`.
    static func kernel(softmaxGradient index: Int, gatesGradient: Int, graph: Graph,
                       buffer: (Value) throws -> DeviceBuffer) throws -> Kernel {
        let node = graph.nodes[index], source = graph.nodes[gatesGradient], values = graph.shape(of: source.inputs[0])
        guard values.count == 3 else { throw GraphError("internal: a fused gates gradient without values [N, E, F]") }
        return .mixtureBackwardLogits(values: try buffer(source.inputs[0]), gates: try buffer(node.inputs[0]),
                                      dy: try buffer(source.inputs[1]), dLogits: try buffer(Value(node: index)),
                                      rows: values[0], experts: values[1], features: values[2])
    }

    /// The nodes whose reads happen at fused node `index` besides its own: its chain's product and bias, the
    /// bias gradient, softmax gate or gates gradient it computes.
    func extraReads(at index: Int, graph: Graph) -> [Value] {
        var reads: [Value] = []
        if let chain = chains[index] { reads += graph.nodes[chain.product].inputs + graph.nodes[chain.bias].inputs }
        if let biasGradient = biasGradients[index] { reads += graph.nodes[biasGradient].inputs }
        if let softmax = softmaxGates[index] { reads += graph.nodes[softmax].inputs }
        if let gatesGradient = gateGradients[index] { reads += graph.nodes[gatesGradient].inputs }
        return reads
    }
}
