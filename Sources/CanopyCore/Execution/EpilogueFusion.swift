/// The product–bias–activation chains of a plan that run as one ``Kernel/matmulBias(a:b:bias:c:shape:activation:)``
/// or ``Kernel/conv2dBias(input:weight:bias:output:geometry:activation:)``.
///
/// A dense layer is three graph nodes, `matmul → biasAdd → f` (a convolution layer `conv2d → biasAdd → f`), and
/// each would be a kernel call with a pass over the output of its own. When nothing else reads the product or the biased value (not the backward pass, not an output of
/// the plan, not a view of an arena), the bias and f become the product's epilogue: one call, and neither
/// intermediate gets a buffer. The backward pass does not read them: autodiff gives relu, sigmoid and tanh their
/// output in place of their input (``UnaryFunction/derivativeReadsInput``), so only gelu and silu keep the biased
/// value alive, and then the chain fuses without its activation.
///
/// Backward, the activation's derivative and the bias gradient that sums it (`unaryBackward → biasGradient`) run
/// as one ``Kernel/unaryBackwardBiasGradient(_:x:y:dy:dx:dBias:outer:channels:inner:)`` at the derivative's node:
/// the derivative is still written (the products' gradients read it), the sums are taken while it is in cache,
/// and the bias gradient's buffer is allocated there.
///
/// A mixture of experts' softmax gate runs in its mixture's kernel, forward and backward (see
/// `EpilogueFusion+Gates.swift`).
struct EpilogueFusion {
    /// One fused chain: the nodes of the product, the bias and (when fused) the activation.
    struct Chain {
        let product: Int, bias: Int, activation: Int?
        /// The node whose output the fused call writes, and where it is planned.
        var last: Int { activation ?? bias }
    }

    /// Chains by their last node.
    private(set) var chains: [Int: Chain] = [:]
    /// Bias-gradient nodes by the derivative node that computes them.
    private(set) var biasGradients: [Int: Int] = [:]
    /// Softmax nodes whose gates their mixture's node computes (``Kernel/mixtureSoftmax(logits:values:gates:y:rows:
    /// experts:features:)``), by that mixture node.
    var softmaxGates: [Int: Int] = [:]
    /// Gates-gradient nodes (`mixtureBackwardGates`) computed at the softmax-gradient node that reads them
    /// (``Kernel/mixtureBackwardLogits(values:gates:dy:dLogits:rows:experts:features:)``), by that node.
    var gateGradients: [Int: Int] = [:]
    /// The nodes computed at a later (chains, softmax gates, gates gradients) or earlier (bias gradients) node, by
    /// that node: they get no kernels of their own; a chain's product and bias values and a gates gradient get no
    /// buffers, a bias gradient's and a softmax gate's outputs get their buffers at the node computing them.
    var absorbed: [Int: Int] = [:]

    /// An empty set of fusions (a plan that fuses nothing).
    init() {}

    /// Finds the chains among `order`'s nodes.
    ///
    /// - Parameters:
    ///   - readers: each value's reading nodes, one entry per read.
    ///   - kept: whether a value must stay materialised (an output of the plan, an alias's source, a placed view).
    init(graph: Graph, order: [Int], readers: [Value: [Int]], kept: (Value) -> Bool) {
        func onlyReader(of value: Value) -> Int? {
            guard !kept(value), let reading = readers[value], reading.count == 1 else { return nil }
            return reading[0]
        }
        for index in order {
            switch graph.nodes[index].op {
            case .matmul, .conv2d: break
            default: continue
            }
            guard let biasIndex = onlyReader(of: Value(node: index)) else { continue }
            let biasNode = graph.nodes[biasIndex]
            guard case .biasAdd = biasNode.op, biasNode.inputs[0] == Value(node: index),
                  biasNode.outputShapes[0] == graph.nodes[index].outputShapes[0] else { continue }
            var activation: Int?
            if let next = onlyReader(of: Value(node: biasIndex)), case .unary = graph.nodes[next].op { activation = next }
            let chain = Chain(product: index, bias: biasIndex, activation: activation)
            chains[chain.last] = chain
            absorbed[index] = chain.last
            if activation != nil { absorbed[biasIndex] = chain.last }
        }
        for index in order {
            guard case .biasGradient = graph.nodes[index].op, let source = graph.nodes[index].inputs.first,
                  source.output == 0, case .unaryBackward = graph.nodes[source.node].op,
                  biasGradients[source.node] == nil else { continue }
            biasGradients[source.node] = index
            absorbed[index] = source.node
        }
        findGateFusions(graph: graph, order: order, readers: readers, onlyReader: onlyReader(of:))
    }

    /// The node at which `index`'s reads happen: the chain's last node for an absorbed node, else itself.
    func readingNode(_ index: Int) -> Int { absorbed[index] ?? index }

    /// The fused backward call at derivative node `index` that also computes bias-gradient node `biasGradient`.
    static func kernel(derivative index: Int, biasGradient: Int, graph: Graph,
                       buffer: (Value) throws -> DeviceBuffer) throws -> Kernel {
        let node = graph.nodes[index]
        guard case let .unaryBackward(function) = node.op else { throw GraphError("internal: a fused gradient without its derivative") }
        let shape = node.outputShapes[0]
        let outer = shape[0], channels = shape.count > 1 ? shape[1] : 1, inner = shape.dropFirst(2).reduce(1, *)
        return .unaryBackwardBiasGradient(function, x: try buffer(node.inputs[0]), y: try buffer(node.inputs[1]),
                                          dy: try buffer(node.inputs[2]), dx: try buffer(Value(node: index)),
                                          dBias: try buffer(Value(node: biasGradient)), outer: outer,
                                          channels: channels, inner: inner)
    }

    /// The fused call for the chain ending at `last`, given the buffers of the values it reads and writes.
    static func kernel(for chain: Chain, graph: Graph, buffer: (Value) throws -> DeviceBuffer) throws -> Kernel {
        let product = graph.nodes[chain.product], bias = graph.nodes[chain.bias]
        var activation: UnaryFunction?
        if let last = chain.activation, case let .unary(function) = graph.nodes[last].op { activation = function }
        let left = graph.shape(of: product.inputs[0]), right = graph.shape(of: product.inputs[1])
        switch product.op {
        case let .matmul(tA, tB):
            let outShape = product.outputShapes[0]
            let shape = MatmulShape(m: outShape[0], n: outShape[1], k: tA ? left[0] : left[1], transposeA: tA, transposeB: tB)
            return .matmulBias(a: try buffer(product.inputs[0]), b: try buffer(product.inputs[1]),
                               bias: try buffer(bias.inputs[1]), c: try buffer(Value(node: chain.last)), shape: shape,
                               activation: activation)
        case let .conv2d(settings):
            return .conv2dBias(input: try buffer(product.inputs[0]), weight: try buffer(product.inputs[1]),
                               bias: try buffer(bias.inputs[1]), output: try buffer(Value(node: chain.last)),
                               geometry: settings.geometry(input: left, weight: right), activation: activation)
        default:
            throw GraphError("internal: a fused chain without its product")
        }
    }
}
