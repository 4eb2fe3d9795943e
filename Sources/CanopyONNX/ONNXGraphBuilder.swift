import Foundation
import SwiftProtobuf

/// Collects the nodes and initializers of one ONNX graph as it is written, with fresh value names.
///
/// The protocol-buffer types are swift-protobuf's code generated from `Protos/onnx.proto`
/// (`Generated/onnx.pb.swift`); nothing here encodes bytes by hand.
struct ONNXGraphBuilder {
    /// The nodes in the order they were added (each after the nodes it reads, as ONNX requires).
    private(set) var nodes: [Onnx_NodeProto] = []
    /// Parameters and constants.
    private(set) var initializers: [Onnx_TensorProto] = []
    private var counter = 0

    /// A value name not used before, made from `hint`.
    mutating func fresh(_ hint: String) -> String {
        counter += 1
        return "\(hint)_\(counter)"
    }

    /// Appends an `opType` node reading `inputs` and returns the names of its `outputs` new values.
    @discardableResult
    mutating func add(_ opType: String, _ inputs: [String], outputs: Int = 1, hint: String? = nil,
                      _ attributes: [Onnx_AttributeProto] = []) -> [String] {
        let names = (0..<outputs).map { _ in fresh(hint ?? opType.lowercased()) }
        append(opType, inputs, outputs: names, attributes)
        return names
    }

    /// Appends a one-output node and returns its output's name.
    mutating func one(_ opType: String, _ inputs: [String], hint: String? = nil,
                      _ attributes: [Onnx_AttributeProto] = []) -> String {
        add(opType, inputs, hint: hint, attributes)[0]
    }

    /// Appends a one-output node whose output has the given name (a graph output).
    mutating func named(_ name: String, _ opType: String, _ inputs: [String]) {
        append(opType, inputs, outputs: [name])
    }

    /// Appends a node writing `outputs`, named after its first output.
    private mutating func append(_ opType: String, _ inputs: [String], outputs: [String],
                                 _ attributes: [Onnx_AttributeProto] = []) {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.input = inputs
        node.output = outputs
        node.name = outputs[0]
        node.attribute = attributes
        nodes.append(node)
    }

    /// Adds a float32 initializer named `name` (a parameter keeps its checkpoint name).
    mutating func initializer(_ name: String, shape: [Int], values: [Float]) {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var bytes = Data(capacity: values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        tensor.rawData = bytes
        initializers.append(tensor)
    }

    /// A new float32 constant (an initializer) and its name.
    mutating func floats(_ values: [Float], shape: [Int], hint: String = "const") -> String {
        let name = fresh(hint)
        initializer(name, shape: shape, values: values)
        return name
    }

    /// A float32 scalar constant.
    mutating func scalar(_ value: Float) -> String { floats([value], shape: [], hint: "scalar") }

    /// A new int64 constant (shapes, axes, slice bounds) and its name.
    mutating func int64s(_ values: [Int], shape: [Int]? = nil, hint: String = "ints") -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = fresh(hint)
        tensor.dims = (shape ?? [values.count]).map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.int64Data = values.map(Int64.init)
        initializers.append(tensor)
        return tensor.name
    }

    /// A new boolean constant and its name.
    mutating func bools(_ values: [Bool], shape: [Int], hint: String = "mask") -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = fresh(hint)
        tensor.dims = shape.map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.bool.rawValue)
        tensor.rawData = Data(values.map { $0 ? 1 : 0 })
        initializers.append(tensor)
        return tensor.name
    }
}

/// ONNX node attributes.
extension Onnx_AttributeProto {
    /// An integer attribute.
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    /// A list-of-integers attribute.
    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    /// A float attribute.
    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }
}
