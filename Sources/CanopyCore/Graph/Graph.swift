/// One output of one node of a ``Graph``.
public struct Value: Hashable, Sendable, CustomStringConvertible {
    /// The index of the producing node in ``Graph/nodes``.
    public let node: Int
    /// Which of the node's outputs.
    public let output: Int

    /// Names output `output` of node `node`; nothing checks that the node exists.
    public init(node: Int, output: Int = 0) {
        self.node = node
        self.output = output
    }

    public var description: String { output == 0 ? "%\(node)" : "%\(node).\(output)" }
}

/// A node of a ``Graph``: an operation, its inputs and the shapes of its outputs.
public struct Node: Sendable {
    /// The operation the node performs.
    public let op: Op
    /// The values the node reads, in the order its operation defines; each comes from an earlier node.
    public let inputs: [Value]
    /// The shape of each output, known when the node is built.
    public let outputShapes: [[Int]]
    /// A name for people: layer key paths such as `shared[0]`, or what autodiff derived it from.
    public let label: String
}

/// Errors raised while building a graph: shapes that do not fit an operation.
public struct GraphError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, for people, naming the shapes, inputs or values involved.
    public let message: String
    /// Creates an error with the message to show.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A static dataflow graph with every shape known when it is built.
///
/// Nodes are appended in a valid execution order (every input precedes its user), so the node order is a
/// topological order. Build a forward graph with the methods below, then call ``Autodiff`` to append the
/// backward pass, then hand it to an ``Executor``.
///
/// ```swift
/// let graph = Graph()
/// let x = graph.input("x", shape: [32, 64])
/// let w = graph.parameter("dense.weight", shape: [10, 64], initializer: .heUniform(fanIn: 64))
/// let y = try graph.matmul(x, w, transposeB: true)      // [32, 10]
/// ```
public final class Graph {
    /// Every node, in execution (topological) order; a ``Value``'s `node` indexes this array.
    public private(set) var nodes: [Node] = []
    private var namedInputs: [String: Value] = [:]
    private var namedParameters: [String: Value] = [:]
    /// Parameters in creation order: trainable ones and state (such as batch norm's running statistics).
    public private(set) var parameters: [Value] = []
    /// The parameters the optimizer trains, in creation order: ``parameters`` without the state.
    public private(set) var trainableParameters: [Value] = []

    /// Creates an empty graph.
    public init() {}

    /// The shape of a value.
    public func shape(of value: Value) -> [Int] { nodes[value.node].outputShapes[value.output] }

    /// The number of elements of a value.
    public func count(of value: Value) -> Int { shape(of: value).reduce(1, *) }

    /// The node that produced a value.
    public func node(of value: Value) -> Node { nodes[value.node] }

    /// Appends a node and returns its first output. Shapes are the caller's responsibility; prefer the typed builders.
    @discardableResult
    public func append(_ op: Op, inputs: [Value], outputShapes: [[Int]], label: String = "") -> Value {
        nodes.append(Node(op: op, inputs: inputs, outputShapes: outputShapes, label: label))
        return Value(node: nodes.count - 1)
    }

    /// A named input of a fixed shape, uploaded before each step. Asking twice for a name returns the same value.
    public func input(_ name: String, shape: [Int]) -> Value {
        if let existing = namedInputs[name] { return existing }
        let value = append(.input(name), inputs: [], outputShapes: [shape], label: name)
        namedInputs[name] = value
        return value
    }

    /// A named parameter: trainable (the default), or state that kernels update themselves and that is saved and
    /// loaded like any parameter but never differentiated or optimized (batch norm's running statistics). Asking
    /// twice for a name returns the same value (shared weights).
    public func parameter(_ name: String, shape: [Int], initializer: ParameterInit, trainable: Bool = true) -> Value {
        if let existing = namedParameters[name] { return existing }
        let value = append(.parameter(name, initializer), inputs: [], outputShapes: [shape], label: name)
        namedParameters[name] = value
        parameters.append(value)
        if trainable { trainableParameters.append(value) }
        return value
    }

    /// Whether a parameter value is trained (false for state such as running statistics).
    public func isTrainable(_ value: Value) -> Bool { trainableParameters.contains(value) }

    /// The input of that name, if any.
    public func input(named name: String) -> Value? { namedInputs[name] }
    /// The parameter of that name, if any.
    public func parameter(named name: String) -> Value? { namedParameters[name] }

    /// The name of an input or parameter value.
    public func name(of value: Value) -> String? {
        switch nodes[value.node].op {
        case let .input(name), let .parameter(name, _): return name
        default: return nil
        }
    }
}
