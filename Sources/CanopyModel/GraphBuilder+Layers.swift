import CanopyCore

/// Builds a model's graph from its spec, one ``Layer`` definition at a time, and records what it builds as the
/// rows of a ``ModelSummary`` (so `canopy check` prints the graph that training runs).
///
/// Nothing is created unchecked: each layer first passes its own ``Layer/check(input:at:)``; each parameter is
/// counted, saturating, against ``ModelLimits/maxParameterCount`` before it is created; each output's
/// per-example shape is refused when absurd (``ModelLimits/maxDimension``, ``ModelLimits/maxActivationCount``)
/// before anything reads it. Graph nodes are symbolic (no memory is allocated), and no size product traps.
final class ModelBuilder {
    let spec: ModelSpec
    let graph: Graph
    /// The scalars of every parameter created so far.
    private var parameterTotal = 0

    init(spec: ModelSpec, graph: Graph) {
        self.spec = spec
        self.graph = graph
    }

    /// The per-example shape of `value`: its shape without the batch dimension.
    func shape(of value: Value) -> [Int] { Array(graph.shape(of: value).dropFirst()) }

    /// Appends a list of layers; layer `i`'s parameters are named `<prefix>.<i>.<suffix>`. Each layer's row goes
    /// into `rows` under its key path, so that copies of one list (every expert, every task's column) add their
    /// parameters to the same rows; `copies` is how many copies the list has, for messages.
    func appendLayers(_ layers: [LayerSpec], to start: Value, prefix: String, copies: Int = 1,
                      rows: inout RowLog) throws -> Value {
        var x = start
        for (index, layer) in layers.enumerated() {
            x = try appendLayer(layer, to: x, name: "\(prefix).\(index)", copies: copies, rows: &rows)
        }
        return x
    }

    /// Appends one layer of a list; its parameters are named `<name>.<suffix>`.
    func appendLayer(_ layer: LayerSpec, to x: Value, name: String, copies: Int = 1,
                     rows: inout RowLog) throws -> Value {
        if let block = layer.kind.layer as? ResidualLayer {
            return try appendResidual(block, at: layer, to: x, name: name, copies: copies, rows: &rows)
        }
        let syntax = layer.kind.layer.wordSyntax
        let site = LayerSite(keyPath: layer.keyPath, location: layer.location,
                             settingPath: { syntax.settingPath($0, inList: layer.keyPath) }, locate: spec.location(of:))
        let what = copies > 1 ? "\(copies) copies of \(layer.kind)" : "\(layer.kind) on its input"
        let (y, parameters) = try apply(layer.kind.layer, to: x, name: name, site: site, what: what)
        rows.add(layer.keyPath, layer.kind.description, input: shape(of: x), output: shape(of: y), parameters)
        return y
    }

    /// Checks `layer` on `x`, creates its parameters `<name>.<suffix>`, appends its nodes (labelled `label`, by
    /// default the site's key path) and checks its output's size. Errors are placed with `site`; a model grown
    /// past the parameter limit names `what`. Returns the output and the parameters created.
    func apply(_ layer: any Layer, to x: Value, name: String, label: String? = nil, site: LayerSite,
               what: String) throws -> (Value, [ModelSummary.Parameter]) {
        let input = shape(of: x)
        try layer.check(input: input, at: site)
        var values: [Value] = []
        var created: [ModelSummary.Parameter] = []
        for parameter in layer.parameters(input: input) {
            let full = "\(name).\(parameter.suffix)"
            values.append(try self.parameter(full, shape: parameter.shape, initializer: parameter.initializer,
                                             trainable: parameter.trainable, at: site.keyPath, site.location, what: what))
            created.append(ModelSummary.Parameter(name: full, count: Sizes.product(parameter.shape),
                                                  trainable: parameter.trainable))
        }
        let y: Value
        do {
            y = try layer.append(to: x, parameters: values, label: label ?? site.keyPath, in: graph)
        } catch let error as GraphError {
            throw site.error(error.message)
        }
        try checkSize(of: y, at: site.keyPath, site.location)
        return (y, created)
    }

    /// A parameter, after adding its scalars to the running total; refused (naming `what`, written at `keyPath`)
    /// when the model would exceed ``ModelLimits/maxParameterCount``.
    func parameter(_ name: String, shape: [Int], initializer: ParameterInit, trainable: Bool = true,
                   at keyPath: String, _ location: SourceLocation, what: String) throws -> Value {
        let count = Sizes.product(shape)
        if count > ModelLimits.maxParameterCount || parameterTotal + count > ModelLimits.maxParameterCount {
            throw ModelFileError(location: location, keyPath: keyPath,
                                 message: "the model would have more than \(ModelLimits.maxParameterCount) "
                                    + "parameters (\(what))")
        }
        parameterTotal += count
        return graph.parameter(name, shape: shape, initializer: initializer, trainable: trainable)
    }

    /// Refuses a value whose per-example shape has an absurd dimension or element count.
    func checkSize(of value: Value, at keyPath: String, _ location: SourceLocation) throws {
        let shape = self.shape(of: value)
        if shape.contains(where: { $0 > ModelLimits.maxDimension }) || Sizes.product(shape) > ModelLimits.maxActivationCount {
            throw ModelFileError(location: location, keyPath: keyPath,
                                 message: "output shape \(ModelSummary.shape(shape)) is absurdly large")
        }
    }
}

extension ModelBuilder {
    /// Appends a residual block written at `layer`: its layers as a list whose parameters are `<name>.<i>.<suffix>`
    /// (their rows after the block's own), then `x + f(x)`, refused with both shapes when `f` changes the shape.
    func appendResidual(_ block: ResidualLayer, at layer: LayerSpec, to x: Value, name: String, copies: Int,
                        rows: inout RowLog) throws -> Value {
        let input = shape(of: x)
        rows.add(layer.keyPath, block.description, input: input, output: input, [])
        let inner = try appendLayers(block.layers, to: x, prefix: name, copies: copies, rows: &rows)
        guard shape(of: inner) == input else {
            throw ModelFileError(location: layer.location, keyPath: layer.keyPath,
                                 message: "a residual block's layers must keep its input's shape, but they turn "
                                    + "\(LayerSite.text(input)) into \(LayerSite.text(shape(of: inner)))")
        }
        return try graph.binary(.add, x, inner, label: layer.keyPath)
    }
}

/// Summary rows in the order they were first built, merged by key path: every copy of a layer (each expert,
/// each task's column or tower) adds its parameters, in build order, to the layer's one row.
struct RowLog {
    private(set) var rows: [ModelSummary.Row] = []
    private var indices: [String: Int] = [:]

    mutating func add(_ keyPath: String, _ description: String, input: [Int], output: [Int],
                      _ parameters: [ModelSummary.Parameter]) {
        if let index = indices[keyPath] {
            rows[index].parameters += parameters
            return
        }
        indices[keyPath] = rows.count
        rows.append(ModelSummary.Row(keyPath: keyPath, description: description, inputShape: input, outputShape: output,
                                     parameters: parameters))
    }
}

extension LayerSite {
    /// A site whose settings sit directly under `keyPath` (a graph node's, or a scheme's own block).
    init(keyPath: String, location: SourceLocation, spec: ModelSpec) {
        self.init(keyPath: keyPath, location: location, settingPath: { "\(keyPath).\($0)" }, locate: spec.location(of:))
    }
}
