/// Infers each layer's output shape and parameters in a list of layers, checking that the layer fits its input.
struct ShapeWalker {
    let spec: ModelSpec
    /// Running total, so a huge model is refused before a later layer overflows the count.
    private var parameterTotal = 0

    init(spec: ModelSpec) { self.spec = spec }

    /// The rows of `layers` applied in order to a per-example input of shape `input`.
    mutating func walk(_ layers: [LayerSpec], from input: [Int], parameterPrefix: String) throws -> [ModelSummary.Row] {
        var shape = input
        var rows: [ModelSummary.Row] = []
        for (index, layer) in layers.enumerated() {
            let (output, counts) = try infer(layer, input: shape)
            let names = ["weight", "bias"]
            let parameters = zip(names, counts).map {
                ModelSummary.Parameter(name: "\(parameterPrefix).\(index).\($0)", count: $1)
            }
            rows.append(ModelSummary.Row(keyPath: layer.keyPath, description: layer.kind.description,
                                         inputShape: shape, outputShape: output, parameters: parameters))
            shape = output
        }
        return rows
    }

    /// The output shape of `layer` and the scalar counts of its weight and bias (empty when it has none).
    mutating func infer(_ layer: LayerSpec, input: [Int]) throws -> ([Int], [Int]) {
        let path = layer.keyPath
        func fail(_ field: String?, _ message: String) -> ModelFileError {
            let full = field.map { Self.fieldPath(layer, $0) } ?? path
            return ModelFileError(location: field == nil ? layer.location : spec.location(of: full),
                                  keyPath: full, message: message)
        }
        func size(_ value: Int, _ field: String, min: Int = 1) throws {
            if value < min {
                throw fail(field, "\(field) must be \(min == 1 ? "positive" : "at least \(min)"), got \(value)")
            }
            if value > ModelLimits.maxDimension {
                throw fail(field, "\(field) \(value) is absurdly large (the limit is \(ModelLimits.maxDimension))")
            }
        }
        let shapeText = ModelSummary.shape(input)
        switch layer.kind {
        case .dense(let units):
            try size(units, "units")
            guard input.count == 1 else {
                throw fail(nil, "dense needs a flat input but gets \(shapeText); add 'flatten' before it")
            }
            return (try checked([units], layer), try counted([saturatingProduct([input[0], units]), units], layer))
        case .conv2d(let filters, let kernel, let stride, let padding):
            try size(filters, "filters")
            try size(kernel, "kernel")
            try size(stride, "stride")
            try size(padding, "padding", min: 0)
            if padding >= kernel {
                throw fail("padding", "padding must be smaller than the kernel (\(kernel)), got \(padding)")
            }
            guard input.count == 3 else {
                throw fail(nil, "conv2d needs a [channels, height, width] input but gets \(shapeText)")
            }
            let (h, w) = (input[1] + 2 * padding, input[2] + 2 * padding)
            guard kernel <= h && kernel <= w else {
                throw fail("kernel", "kernel \(kernel) is larger than its padded input \(h)×\(w)")
            }
            let output = [filters, (h - kernel) / stride + 1, (w - kernel) / stride + 1]
            let weight = saturatingProduct([filters, input[0], kernel, kernel])
            return (try checked(output, layer), try counted([weight, filters], layer))
        case .maxPool(let kernel, let stride):
            try size(kernel, "kernel")
            try size(stride, "stride")
            guard input.count == 3 else {
                throw fail(nil, "maxpool needs a [channels, height, width] input but gets \(shapeText)")
            }
            guard kernel <= input[1] && kernel <= input[2] else {
                throw fail("kernel", "kernel \(kernel) is larger than its input \(input[1])×\(input[2])")
            }
            let output = [input[0], (input[1] - kernel) / stride + 1, (input[2] - kernel) / stride + 1]
            return (try checked(output, layer), [])
        case .flatten:
            return (try checked([saturatingProduct(input)], layer), [])
        case .activation:
            return (input, [])
        case .dropout(let p):
            guard p.isFinite && p >= 0 && p < 1 else {
                let full = Self.fieldPath(layer, "p")
                throw ModelFileError(location: spec.location(of: full), keyPath: full,
                                     message: "dropout probability must be in [0, 1), got \(p)")
            }
            return (input, [])
        }
    }

    /// The key path of a layer's setting: `shared[0].conv2d.kernel` and `shared[5].dropout` in a layer list,
    /// `graph[2].kernel` and `graph[3].p` for a graph node (whose settings sit beside `op:`).
    static func fieldPath(_ layer: LayerSpec, _ field: String) -> String {
        if layer.keyPath.hasPrefix("graph[") { return "\(layer.keyPath).\(field)" }
        return field == "p" ? "\(layer.keyPath).dropout" : "\(layer.keyPath).\(layer.kind.keyword).\(field)"
    }

    /// The product of `factors`, or `Int.max` when it overflows (the parameter limit then refuses it).
    func saturatingProduct(_ factors: [Int]) -> Int {
        var product = 1
        for factor in factors {
            let (next, overflow) = product.multipliedReportingOverflow(by: factor)
            if overflow { return Int.max }
            product = next
        }
        return product
    }

    /// `shape`, after checking that no dimension nor the element count is absurd.
    func checked(_ shape: [Int], _ layer: LayerSpec) throws -> [Int] {
        let count = saturatingProduct(shape)
        if shape.contains(where: { $0 > ModelLimits.maxDimension }) || count > ModelLimits.maxActivationCount {
            throw ModelFileError(location: layer.location, keyPath: layer.keyPath,
                                 message: "output shape \(ModelSummary.shape(shape)) is absurdly large")
        }
        return shape
    }

    /// `counts`, after adding them to the running total and checking it against the limit.
    mutating func counted(_ counts: [Int], _ layer: LayerSpec) throws -> [Int] {
        for count in counts {
            try addToTotal(count, at: layer.keyPath, layer.location, what: "\(layer.kind.description) on its input")
        }
        return counts
    }

    /// Adds `count` scalars (of `what`, written at `keyPath`) to the running total; an error when the model would
    /// exceed ``ModelLimits/maxParameterCount``.
    mutating func addToTotal(_ count: Int, at keyPath: String, _ location: SourceLocation, what: String) throws {
        if count > ModelLimits.maxParameterCount || parameterTotal + count > ModelLimits.maxParameterCount {
            throw ModelFileError(location: location, keyPath: keyPath,
                                 message: "the model would have more than \(ModelLimits.maxParameterCount) "
                                    + "parameters (\(what))")
        }
        parameterTotal += count
    }
}
