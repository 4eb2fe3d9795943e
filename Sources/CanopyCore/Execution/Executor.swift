/// Runs a planned graph on a backend.
///
/// Planning happens once, in `init`: the executor keeps the nodes needed for the requested outputs, resolves
/// aliases (reshape, inference-mode dropout, gradient reversal), computes each value's last use and assigns device buffers from
/// a pool, so values whose lifetimes do not overlap share memory. It then records the exact ``Kernel`` calls.
/// A step uploads inputs, replays the recorded calls and reads back only what the caller asks for: no
/// allocation, no host round trip in between.
public final class Executor {
    /// Whether dropout is active and the backward pass may be run.
    public enum Mode: Sendable { case training, inference }

    /// The graph this executor was planned for; nodes appended after planning are not run.
    public let graph: Graph
    /// The backend every planned kernel runs on, the same as the parameter store's.
    public let backend: Backend
    /// The parameters the plan reads (and, through the optimizer, that training updates in place).
    public let parameters: ParameterStore
    /// Whether dropout draws masks (training) or passes values through (inference).
    public let mode: Mode
    /// The planned kernel calls, in order, one step's worth.
    public private(set) var plannedKernels: [PlannedKernel] = []
    /// The graph node each planned kernel computes (parallel to ``plannedKernels``).
    public private(set) var plannedNodes: [Int] = []
    /// How many device buffers the plan allocated for intermediate values, and their total element count.
    public private(set) var intermediateBufferCount = 0
    /// The total element count of those buffers (each at least 1).
    public private(set) var intermediateElementCount = 0

    /// The row of a larger batch that this plan's first row is (0 by default): dropout draws each element's mask
    /// from its place in that batch, so processes sharing a batch (data-parallel training) draw the masks one
    /// process with the whole batch draws. Dropout's input is batch-major, so row `r` starts at element
    /// `r · (count / rows)`.
    public var firstRowOfBatch = 0
    /// The values asked to lie end to end in one buffer after every step (see ``init(graph:backend:parameters:
    /// outputs:mode:gradientArena:gradientValues:gathered:fusing:)``); nil when none were asked for.
    public internal(set) var gathered: GatheredValues?
    /// Where each view of the gradient arena that the plan computes into starts in the arena, by buffer.
    var gradientArenaOffsets: [ObjectIdentifier: Int] = [:]
    private var storage: [Value: DeviceBuffer] = [:]
    private var inputBuffers: [String: DeviceBuffer] = [:]
    /// Values whose buffers planning fixed in advance: views of the gradient arena, the gathered buffer or the
    /// parameter arena (see `Executor+Placement.swift`).
    var placed: [Value: DeviceBuffer] = [:]

    /// Plans the nodes needed to compute `outputs` (which stay readable after ``run(seed:)``).
    ///
    /// When the parameters lie in an arena, a concatenation along axis 0 of parameters that lie end to end in it
    /// (fused experts' weights) is a view of the arena, not a copy.
    ///
    /// - Parameters:
    ///   - gradientArena: where the gradients in `gradientValues` (by parameter name) are computed, so that they lie
    ///     end to end: each is placed in its view when it is computed by a kernel of its own (not a view of a
    ///     parameter, an input or another placed value); and a value whose only readers are axis-0 slices that are
    ///     such gradients, tiling it in arena order, is computed straight into the arena (the slices are views).
    ///     ``buffer(for:)`` says where each output ended up.
    ///   - gathered: values (outputs too) that every step leaves end to end in one buffer, ``gathered``: each is
    ///     computed straight into its place where it can be (a view of that buffer), or else copied there at the
    ///     end of the plan.
    ///   - fusing: whether a product followed by its bias and activation (a dense layer) runs as one
    ///     ``Kernel/matmulBias(a:b:bias:c:shape:activation:)`` where nothing else reads the intermediate values
    ///     (the default; the results are the same bits either way on one backend).
    public init(graph: Graph, backend: Backend, parameters: ParameterStore, outputs: [Value], mode: Mode,
                gradientArena: GradientArena? = nil, gradientValues: [String: Value] = [:], gathered: [Value] = [],
                fusing: Bool = true) throws {
        guard parameters.backend === backend else {
            throw GraphError("the parameter store lives on backend '\(parameters.backend.name)', not '\(backend.name)'")
        }
        self.graph = graph
        self.backend = backend
        self.parameters = parameters
        self.mode = mode
        try plan(outputs: outputs + gathered, gradientArena: gradientArena, gradientValues: gradientValues,
                 gathered: gathered, fusing: fusing)
        try backend.prepare(kernels: plannedKernels.map(\.preparedKernel))
    }

    /// Uploads the values of a named input. The count must match the input's shape.
    public func setInput(_ name: String, _ values: [Float]) throws {
        guard let buffer = inputBuffers[name] else {
            throw GraphError("this executor has no input named '\(name)' (inputs: \(inputBuffers.keys.sorted().joined(separator: ", ")))")
        }
        guard values.count == buffer.count else {
            throw GraphError("input '\(name)' takes \(buffer.count) values, got \(values.count)")
        }
        try backend.upload(values, to: buffer)
    }

    /// The names of the inputs this plan reads.
    public var inputNames: [String] { inputBuffers.keys.sorted() }

    /// Whether this plan reads the input called `name`.
    public func hasInput(_ name: String) -> Bool { inputBuffers[name] != nil }

    /// Enqueues one step. `seed` draws this step's dropout masks (use a new one per step).
    ///
    /// - Parameters:
    ///   - nodes: only the kernels of graph nodes in this range (all when nil). A step can run in phases — say the
    ///     forward pass and some gradients, then host work that sets an input, then the rest — since every value
    ///     keeps its planned buffer until its last use.
    ///   - updatingState: whether training-mode kernels that update state parameters run (batch norm's running
    ///     statistics); a measurement that must leave the model as it was (gradient diagnostics) passes false.
    ///   - afterKernel: called with a kernel's index in ``plannedKernels`` once it has been executed (enqueued, on
    ///     a backend with a queue): what it wrote is ready for a read, which waits for it.
    public func run(seed: UInt64 = 0, nodes: Range<Int>? = nil, updatingState: Bool = true,
                    afterKernel: ((Int) throws -> Void)? = nil) throws {
        let base = UInt32(truncatingIfNeeded: seed ^ (seed >> 32))
        for (index, (planned, node)) in zip(plannedKernels, plannedNodes).enumerated() {
            if let nodes, !nodes.contains(node) { continue }
            switch planned {
            case let .fixed(kernel):
                try backend.execute(kernel)
            case let .stateUpdate(kernel):
                if updatingState { try backend.execute(kernel) }
            case let .dropout(x, y, mask, probability, count, node):
                let stepSeed = DropoutRandom.hash(base ^ DropoutRandom.hash(UInt32(truncatingIfNeeded: node)))
                let rows = max(1, graph.nodes[node].outputShapes[0].first ?? 1)
                try backend.execute(.dropout(x: x, y: y, mask: mask, probability: probability, seed: stepSeed,
                                             count: count, firstIndex: firstRowOfBatch * (count / rows)))
            }
            try afterKernel?(index)
        }
    }

    /// For each planned kernel, in order, the ranges of the gradient arena (see ``init(graph:backend:parameters:
    /// outputs:mode:gradientArena:gradientValues:fusing:)``) it writes: empty for all but the kernels that compute
    /// placed gradients. A range of the arena is final once the last kernel writing it has run.
    public func gradientArenaWrites() throws -> [[Range<Int>]] {
        try plannedKernels.map { planned in
            try planned.preparedKernel.operands().compactMap { operand -> Range<Int>? in
                guard operand.access.writes, let offset = gradientArenaOffsets[ObjectIdentifier(operand.buffer)] else { return nil }
                return offset..<(offset + operand.count)
            }
        }
    }

    /// The device buffer holding a planned value (outputs stay valid between steps).
    public func buffer(for value: Value) throws -> DeviceBuffer {
        guard let buffer = storage[value] else { throw GraphError("value \(value) is not part of this plan") }
        return buffer
    }

    /// Downloads a value (waits for enqueued work).
    public func read(_ value: Value) throws -> [Float] {
        let buffer = try self.buffer(for: value)
        var result = [Float](repeating: 0, count: graph.count(of: value))
        try result.withUnsafeMutableBufferPointer { try backend.download(buffer, offset: 0, into: $0) }
        return result
    }

    /// Downloads a value into an existing array of the right count (no allocation).
    public func read(_ value: Value, into destination: inout [Float]) throws {
        let buffer = try self.buffer(for: value)
        guard destination.count == graph.count(of: value) else {
            throw GraphError("value \(value) has \(graph.count(of: value)) elements, the destination \(destination.count)")
        }
        try destination.withUnsafeMutableBufferPointer { try backend.download(buffer, offset: 0, into: $0) }
    }

    // MARK: Planning

    private func plan(outputs: [Value], gradientArena: GradientArena?, gradientValues: [String: Value],
                      gathered gatheredValues: [Value], fusing: Bool) throws {
        let needed = neededNodes(for: outputs)
        let order = needed.indices.filter { needed[$0] }
        var root = aliasRoots(order: order)
        var gradientNames: [Value: String] = [:]
        if let gradientArena {
            for (name, value) in gradientValues {
                let owner = root[value] ?? value
                guard let view = gradientArena.views[name], isPooled(owner), placed[owner] == nil,
                      view.count == max(graph.count(of: owner), 1) else { continue }
                placed[owner] = view
                gradientNames[owner] = name
                gradientArenaOffsets[ObjectIdentifier(view)] = gradientArena.layout.offsets[name]
            }
        }
        let copiedIntoPlace = try placeGathered(gatheredValues, root: root)
        var readers: [Value: [Int]] = [:]
        for index in order { for input in graph.nodes[index].inputs { readers[input, default: []].append(index) } }
        let viewNodes = try arenaViews(order: order, root: root, readers: readers, gradientArena: gradientArena,
                                       gradientNames: gradientNames)
        // Sums that a product accumulates into: the product's and the sum's values share the term's buffer.
        let accumulation: ProductAccumulation
        if fusing {
            let outputOwners = Set(outputs.map { root[$0] ?? $0 }), sources = Set(root.values)
            accumulation = ProductAccumulation(graph: graph, order: order, readers: readers, isFree: { value in
                self.isPooled(value) && root[value] == nil && !sources.contains(value) && self.placed[value] == nil
                    && !outputOwners.contains(value)
            }, isPlaced: { self.placed[$0] != nil })
            for (value, term) in accumulation.aliases { root[value] = term }
            for (value, source) in root { if let term = accumulation.aliases[source] { root[value] = term } }
        } else {
            accumulation = ProductAccumulation()
        }
        let pinned = Set(outputs.map { root[$0] ?? $0 })
        let aliased = Set(root.values)
        let fusion = fusing ? EpilogueFusion(graph: graph, order: order, readers: readers) { value in
            pinned.contains(value) || aliased.contains(value) || self.placed[value] != nil
        } : EpilogueFusion()
        // A fused call reads what its absorbed nodes read at its own node: a chain's product operands and bias
        // live until its last node.
        var lastUse: [Value: Int] = [:]
        for index in order {
            for input in graph.nodes[index].inputs {
                let value = root[input] ?? input
                lastUse[value] = max(lastUse[value] ?? 0, fusion.readingNode(index))
            }
        }

        var pool: [Int: [DeviceBuffer]] = [:]
        for index in order where fusion.absorbed[index] == nil {
            let node = graph.nodes[index]
            // The node's outputs, and those of a bias gradient or softmax gate computed here.
            let computed = [index] + (fusion.biasGradients[index].map { [$0] } ?? [])
                + (fusion.softmaxGates[index].map { [$0] } ?? [])
            for producer in computed {
                for output in graph.nodes[producer].outputShapes.indices {
                    let value = Value(node: producer, output: output)
                    if let source = root[value] { storage[value] = storage[source]; continue }
                    storage[value] = try allocate(value, node: graph.nodes[producer], pool: &pool)
                }
            }
            let kernels: [PlannedKernel]
            if let biasGradient = fusion.biasGradients[index] {
                kernels = [.fixed(try EpilogueFusion.kernel(derivative: index, biasGradient: biasGradient, graph: graph) {
                    try self.buffer(for: $0)
                })]
            } else if let softmax = fusion.softmaxGates[index] {
                kernels = [.fixed(try EpilogueFusion.kernel(mixture: index, softmax: softmax, graph: graph) {
                    try self.buffer(for: $0)
                })]
            } else if let gatesGradient = fusion.gateGradients[index] {
                kernels = [.fixed(try EpilogueFusion.kernel(softmaxGradient: index, gatesGradient: gatesGradient,
                                                            graph: graph) { try self.buffer(for: $0) })]
            } else if let chain = fusion.chains[index] {
                kernels = [.fixed(try EpilogueFusion.kernel(for: chain, graph: graph) { try self.buffer(for: $0) })]
            } else if viewNodes.contains(index) || accumulation.sums.contains(index) {
                kernels = []
            } else {
                kernels = try KernelEmitter.kernels(for: node, at: index, graph: graph, mode: mode) { try self.buffer(for: $0) }
                    .map { accumulation.kernel($0, at: index) }
            }
            // Checked once here against each kernel's contract, so that every backend, including one with no
            // checks of its own, gets a bad plan as an error before any step runs.
            for kernel in kernels { try kernel.validate() }
            plannedKernels += kernels
            plannedNodes += Array(repeating: index, count: kernels.count)
            // Release what this node was the last to read, and outputs nobody reads.
            let reads = node.inputs + fusion.extraReads(at: index, graph: graph)
            var released: [Value] = reads.map { root[$0] ?? $0 }.filter { lastUse[$0] == index }
            released += computed.flatMap { producer in
                graph.nodes[producer].outputShapes.indices.map { Value(node: producer, output: $0) }
            }.filter { root[$0] == nil && lastUse[$0] == nil }
            // (A fused chain's intermediate values have no buffer to release.)
            for value in Set(released) where !pinned.contains(value) && isPooled(value) && placed[value] == nil {
                guard let buffer = storage[value] else { continue }
                pool[graph.count(of: value), default: []].append(buffer)
            }
        }
        // Gathered values that could not be computed in place: copied there once everything is computed.
        if let gathered {
            for index in copiedIntoPlace {
                let value = gathered.values[index]
                let copy = gathered.copy(index, from: try buffer(for: value))
                try copy.validate()
                plannedKernels.append(.fixed(copy))
                plannedNodes.append(value.node)
            }
        }
    }

    private func allocate(_ value: Value, node: Node, pool: inout [Int: [DeviceBuffer]]) throws -> DeviceBuffer {
        switch node.op {
        case let .parameter(name, _):
            guard let buffer = parameters.buffer(named: name) else { throw GraphError("parameter '\(name)' is not in the store") }
            return buffer
        case let .input(name):
            let buffer = try backend.makeBuffer(count: max(graph.count(of: value), 1))
            inputBuffers[name] = buffer
            return buffer
        default:
            if let buffer = placed[value] { return buffer }   // placed gradients and arena views
            let count = max(graph.count(of: value), 1)
            if let reused = pool[count]?.popLast() { return reused }
            intermediateBufferCount += 1
            intermediateElementCount += count
            return try backend.makeBuffer(count: count)
        }
    }

    func isPooled(_ value: Value) -> Bool {
        switch graph.nodes[value.node].op {
        case .parameter, .input: return false
        default: return true
        }
    }

    /// Nodes that some output depends on.
    private func neededNodes(for outputs: [Value]) -> [Bool] {
        var needed = [Bool](repeating: false, count: graph.nodes.count)
        for value in outputs { needed[value.node] = true }
        for index in stride(from: graph.nodes.count - 1, through: 0, by: -1) where needed[index] {
            for input in graph.nodes[index].inputs { needed[input.node] = true }
        }
        return needed
    }

    /// For values that share their input's buffer, the value that owns the buffer.
    private func aliasRoots(order: [Int]) -> [Value: Value] {
        var root: [Value: Value] = [:]
        for index in order {
            let node = graph.nodes[index]
            let aliases: Bool
            switch node.op {
            case .reshape: aliases = true
            case .dropout: aliases = mode == .inference
            case .gradientReversal: aliases = true
            default: aliases = false
            }
            if aliases { root[Value(node: index)] = root[node.inputs[0]] ?? node.inputs[0] }
        }
        return root
    }
}

/// One recorded kernel call of an executor's plan.
public enum PlannedKernel {
    /// A call replayed as is.
    case fixed(Kernel)
    /// A call that updates state parameters (running statistics), replayed unless a run asks to leave state alone.
    case stateUpdate(Kernel)
    /// A dropout call whose seed is drawn per step from the step seed and the node index.
    case dropout(x: DeviceBuffer, y: DeviceBuffer, mask: DeviceBuffer, probability: Float, count: Int, node: Int)

    /// The call as ``Backend/prepare(kernels:)`` sees it (a dropout with seed 0: the seed is drawn per step).
    public var preparedKernel: Kernel {
        switch self {
        case let .fixed(kernel), let .stateUpdate(kernel): return kernel
        case let .dropout(x, y, mask, probability, count, _):
            return .dropout(x: x, y: y, mask: mask, probability: probability, seed: 0, count: count)
        }
    }

    /// Checks the call with ``Kernel/validate()`` (a dropout with any seed: the seed is not part of the contract).
    /// - Throws: ``BackendError/invalidArguments(kernel:reason:)``.
    public func validate() throws {
        switch self {
        case let .fixed(kernel), let .stateUpdate(kernel):
            try kernel.validate()
        case let .dropout(x, y, mask, probability, count, _):
            try Kernel.dropout(x: x, y: y, mask: mask, probability: probability, seed: 0, count: count).validate()
        }
    }
}
