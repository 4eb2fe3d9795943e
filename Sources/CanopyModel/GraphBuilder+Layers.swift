import CanopyCore

extension ModelGraph {
    /// Appends a list of layers; layer `i`'s parameters are named `<prefix>.<i>.weight|bias`.
    static func appendLayers(_ layers: [LayerSpec], to start: Value, prefix: String, in graph: Graph) throws -> Value {
        var x = start
        for (index, layer) in layers.enumerated() {
            x = try appendLayer(layer, to: x, name: "\(prefix).\(index)", in: graph)
        }
        return x
    }

    /// Appends one layer; its parameters are named `<name>.weight` and `<name>.bias`. Shape errors come back as
    /// ``ModelFileError``s at the layer's place.
    static func appendLayer(_ layer: LayerSpec, to x: Value, name: String, in graph: Graph) throws -> Value {
        let shape = graph.shape(of: x)
        do {
            switch layer.kind {
            case let .dense(units):
                return try dense(x, units: units, name: name, label: layer.keyPath, in: graph)
            case let .conv2d(filters, kernel, stride, padding):
                guard shape.count == 4 else {
                    throw GraphError("conv2d needs a [channels, height, width] input, got \(Array(shape.dropFirst()))")
                }
                let weight = graph.parameter("\(name).weight", shape: [filters, shape[1], kernel, kernel],
                                             initializer: .heUniform(fanIn: shape[1] * kernel * kernel))
                let bias = graph.parameter("\(name).bias", shape: [filters], initializer: .zeros)
                return try graph.biasAdd(try graph.conv2d(x, weight, stride: stride, padding: padding, label: layer.keyPath),
                                         bias, label: layer.keyPath)
            case let .maxPool(kernel, stride):
                return try graph.maxPool(x, kernel: kernel, stride: stride, label: layer.keyPath)
            case .flatten:
                return try graph.flatten(x, label: layer.keyPath)
            case let .activation(kind):
                return graph.unary(UnaryFunction(kind), x, label: layer.keyPath)
            case let .dropout(probability):
                return try graph.dropout(x, probability: probability, label: layer.keyPath)
            }
        } catch let error as GraphError {
            throw ModelFileError(location: layer.location, keyPath: layer.keyPath, message: error.message)
        }
    }

    /// `x·Wᵀ + b` with W [units, in] (He-uniform) and b [units] (zeros), named `<name>.weight|bias`.
    static func dense(_ x: Value, units: Int, name: String, label: String, in graph: Graph) throws -> Value {
        let shape = graph.shape(of: x)
        guard shape.count == 2 else {
            throw GraphError("dense needs a flat input, got \(Array(shape.dropFirst())); add 'flatten' before it")
        }
        let weight = graph.parameter("\(name).weight", shape: [units, shape[1]], initializer: .heUniform(fanIn: shape[1]))
        let bias = graph.parameter("\(name).bias", shape: [units], initializer: .zeros)
        return try graph.biasAdd(try graph.matmul(x, weight, transposeB: true, label: label), bias, label: label)
    }
}

extension UnaryFunction {
    /// The kernel function of a model-file activation.
    public init(_ activation: ActivationKind) {
        switch activation {
        case .relu: self = .relu
        case .sigmoid: self = .sigmoid
        case .tanh: self = .tanh
        case .gelu: self = .gelu
        }
    }
}
