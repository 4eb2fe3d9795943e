/// The trainable parameters of a graph, held in device buffers of one backend.
///
/// Executors read and update parameters in place. To move a model to another backend, take a
/// ``snapshot()`` and ``load(_:)`` it into a store on the other backend (or use ``moved(to:)``).
public final class ParameterStore {
    /// The backend holding every parameter buffer; executors must run on this same backend.
    public let backend: Backend
    /// Parameter names in graph order, trained ones and state (running statistics) alike.
    public let names: [String]
    /// The names of the parameters the optimizer trains, in graph order (``names`` without the state).
    public let trainableNames: [String]
    /// Shape of each parameter by name.
    public let shapes: [String: [Int]]
    private var buffers: [String: DeviceBuffer] = [:]

    /// Allocates zero-filled buffers for every parameter of `graph`.
    public init(graph: Graph, backend: Backend) throws {
        self.backend = backend
        var names: [String] = [], trainableNames: [String] = []
        var shapes: [String: [Int]] = [:]
        for value in graph.parameters {
            guard let name = graph.name(of: value) else { continue }
            names.append(name)
            if graph.isTrainable(value) { trainableNames.append(name) }
            shapes[name] = graph.shape(of: value)
            buffers[name] = try backend.makeBuffer(count: max(graph.count(of: value), 1))
        }
        self.names = names
        self.trainableNames = trainableNames
        self.shapes = shapes
    }

    /// The device buffer of a parameter.
    public func buffer(named name: String) -> DeviceBuffer? { buffers[name] }

    /// The number of elements of a parameter.
    public func count(named name: String) -> Int { shapes[name].map { $0.reduce(1, *) } ?? 0 }

    /// The total number of parameter elements.
    public var totalCount: Int { names.reduce(0) { $0 + count(named: $1) } }

    /// Uploads values for some or all parameters. Every given name must exist and have the right element count.
    public func load(_ values: [String: [Float]]) throws {
        for (name, array) in values {
            guard let buffer = buffers[name] else {
                throw GraphError("no parameter named '\(name)' (known: \(names.joined(separator: ", ")))")
            }
            guard array.count == count(named: name) else {
                throw GraphError("parameter '\(name)' has \(count(named: name)) elements, got \(array.count)")
            }
            try backend.upload(array, to: buffer)
        }
    }

    /// Downloads every parameter, by name.
    public func snapshot() throws -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for name in names { result[name] = try backend.download(buffers[name]!) }
        return result
    }

    /// A copy of these parameters on another backend.
    public func moved(to other: Backend, graph: Graph) throws -> ParameterStore {
        let store = try ParameterStore(graph: graph, backend: other)
        try store.load(snapshot())
        return store
    }
}
