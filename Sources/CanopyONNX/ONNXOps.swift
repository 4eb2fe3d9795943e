import CanopyCore

/// The ONNX form of every graph ``Op``, in one exhaustive switch: a new op without an ONNX form does not compile
/// until it gets one here (or is refused with a reason).
///
/// Everything is opset 17. Element-wise maths follows Canopy's kernels (GELU is the exact erf form; an embedding id
/// that is not a whole number in [0, V), or the padding id, gives a zero row), so an exported model computes what
/// `canopy predict` computes. Dropout becomes the identity and batch normalization uses the running statistics,
/// as in inference mode.
extension ONNXGraphWalk {
    /// Lowers graph node `index` and returns the ONNX name of each of its outputs (nil for an output that only
    /// training computes, such as dropout's mask or a pooling's indices).
    func lower(_ index: Int) throws -> [String?] {
        let node = graph.nodes[index]
        let hint = node.label.isEmpty ? "n\(index)" : node.label
        func x(_ i: Int) throws -> String { try name(of: node.inputs[i]) }
        func shape(_ i: Int) -> [Int] { graph.shape(of: node.inputs[i]) }
        let out = graph.shape(of: Value(node: index))
        func one(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> [String?] {
            [builder.one(op, inputs, hint: hint, attributes)]
        }
        func refused(_ why: String) -> ONNXExportError { error(at: index, why) }

        switch node.op {
        case let .input(name):
            if let provided = inputs[name] { return [provided] }
            if let values = constants[name] { return [builder.floats(values, shape: out, hint: name)] }
            // Inference never reads some inputs that nodes list (batch norm's row mask, a reversal's factor): an
            // input the exported model does not provide has no output, and a node that reads it fails in name(of:).
            return [nil]
        case let .parameter(name, _):
            guard let values = parameters[name], values.count == out.reduce(1, *) else {
                throw refused("the checkpoint gives no \(out) values for parameter '\(name)'")
            }
            builder.initializer(name, shape: out, values: values)
            return [name]

        case let .matmul(transposeA, transposeB):
            return one("Gemm", [try x(0), try x(1)], [.int("transA", transposeA ? 1 : 0),
                                                      .int("transB", transposeB ? 1 : 0)])
        case .biasAdd:
            // The bias runs along dimension 1: [C] → [C, 1, ...] broadcasts over an image's planes.
            var bias = try x(1)
            let trailing = shape(0).count - 2
            if trailing > 0 {
                let planes = builder.int64s([-1] + Array(repeating: 1, count: trailing))
                bias = builder.one("Reshape", [bias, planes], hint: hint)
            }
            return one("Add", [try x(0), bias])
        case let .conv2d(settings):
            let weight = shape(1)
            return one("Conv", [try x(0), try x(1)], [
                .ints("kernel_shape", [weight[2], weight[3]]), .int("group", settings.groups),
                .ints("strides", [settings.strideHeight, settings.strideWidth]),
                .ints("pads", [settings.padHeight, settings.padWidth, settings.padHeight, settings.padWidth]),
                .ints("dilations", [1, 1])])
        case let .maxPool(kernel, stride):
            return one("MaxPool", [try x(0)], [.ints("kernel_shape", [kernel, kernel]),
                                               .ints("strides", [stride, stride])]) + [nil]
        case let .avgPool(kernel, stride):
            return one("AveragePool", [try x(0)], [.ints("kernel_shape", [kernel, kernel]),
                                                   .ints("strides", [stride, stride])])
        case .globalAvgPool:
            return one("Flatten", [builder.one("GlobalAveragePool", [try x(0)], hint: hint)], [.int("axis", 1)])
        case let .unary(function):
            return [try unary(function, try x(0), hint: hint)]
        case let .parametricUnary(function, alpha):
            switch function {
            case .leakyRelu: return one("LeakyRelu", [try x(0)], [.float("alpha", alpha)])
            case .elu: return one("Elu", [try x(0)], [.float("alpha", alpha)])
            }
        case let .binary(function):
            switch function {
            case .add: return one("Add", [try x(0), try x(1)])
            case .subtract: return one("Sub", [try x(0), try x(1)])
            case .multiply: return one("Mul", [try x(0), try x(1)])
            }
        case let .scale(alpha):
            return one("Mul", [try x(0), builder.scalar(alpha)])
        case .reshape:
            return one("Reshape", [try x(0), builder.int64s(try dynamicShape(of: Value(node: index)))])
        case .dropout:
            return [try x(0), nil]
        case .gradientReversal:
            return [try x(0)]  // the identity forward; the optional factor input is read only backward
        case let .concat(axis):
            return one("Concat", try node.inputs.indices.map(x), [.int("axis", axis)])
        case let .slice(axis, start, length):
            guard try batchAxis(of: node.inputs[0]) == axis else {
                return one("Slice", [try x(0), builder.int64s([start]), builder.int64s([start + length]),
                                     builder.int64s([axis])])
            }
            // Along the batch dimension (cross-stitch's stacked columns [T·N, ...]): the bounds are multiples of
            // the batch, read at run time from x's size along the axis (c·N).
            guard case let .slice(_, pairStart, pairLength) = pairGraph.nodes[index].op,
                  pairStart == 2 * start, pairLength == 2 * length else {
                throw refused("it slices the batch dimension at bounds that do not grow with the batch")
            }
            let size = builder.one("Gather", [builder.one("Shape", [try x(0)], hint: hint), builder.int64s([axis])],
                                   hint: hint, [.int("axis", 0)])
            let rows = builder.one("Div", [size, builder.int64s([shape(0)[axis]])], hint: hint)
            return one("Slice", [try x(0), builder.one("Mul", [rows, builder.int64s([start])], hint: hint),
                                 builder.one("Mul", [rows, builder.int64s([start + length])], hint: hint),
                                 builder.int64s([axis])])
        case let .embedSlice(axis, start, length):
            guard try batchAxis(of: Value(node: index)) != axis else { throw refused("it pads the batch dimension") }
            var pads = [Int](repeating: 0, count: 2 * out.count)
            pads[axis] = start
            pads[out.count + axis] = out[axis] - start - length
            return one("Pad", [try x(0), builder.int64s(pads)])
        case .mixture:
            // y[n, f] = Σ_e gates[n, e] · values[n, e, f]
            let gates = builder.one("Unsqueeze", [try x(0), builder.int64s([2])], hint: hint)
            let products = builder.one("Mul", [gates, try x(1)], hint: hint)
            return one("ReduceSum", [products, builder.int64s([1])], [.int("keepdims", 0)])
        case .softmax:
            return one("Softmax", [try x(0)], [.int("axis", -1)])
        case .logSoftmax:
            return one("LogSoftmax", [try x(0)], [.int("axis", -1)])
        case let .layerNorm(eps):
            return one("LayerNormalization", [try x(0), try x(1)], [.int("axis", -1), .float("epsilon", eps)])
                + [nil, nil]
        case let .batchNorm(_, eps):
            // Inference form: (x − running mean) / √(running variance + eps) · gamma; the shift is a later biasAdd.
            let channels = shape(1)
            let zero = builder.floats([Float](repeating: 0, count: channels[0]), shape: channels, hint: "zero_shift")
            return one("BatchNormalization", [try x(0), try x(1), zero, try x(2), try x(3)],
                       [.float("epsilon", eps), .int("training_mode", 0)]) + [nil, nil, nil, nil]
        case let .embedding(padding):
            return [try embedding(ids: try x(0), weight: try x(1), vocabulary: shape(1)[0], padding: padding, hint: hint)]
        case let .batchedMatmul(transposeA, transposeB):
            var a = try x(0), b = try x(1)
            if transposeA { a = builder.one("Transpose", [a], hint: hint, [.ints("perm", [0, 2, 1])]) }
            if transposeB { b = builder.one("Transpose", [b], hint: hint, [.ints("perm", [0, 2, 1])]) }
            return one("MatMul", [a, b])
        case let .swapAxes(axis):
            var perm = Array(0..<out.count)
            perm.swapAt(axis, axis + 1)
            return one("Transpose", [try x(0)], [.ints("perm", perm)])
        case let .causalMask(fill):
            let rows = out[out.count - 2], cols = out[out.count - 1]
            if let axis = try batchAxis(of: Value(node: index)), axis >= out.count - 2 {
                throw refused("its masked dimensions hold the batch")
            }
            let above = builder.bools((0..<rows * cols).map { $0 % cols > $0 / cols }, shape: [rows, cols])
            return one("Where", [above, builder.scalar(fill), try x(0)])

        case .softmaxCrossEntropy, .binaryCrossEntropy, .meanSquaredError, .maskedMean, .regressionLoss,
             .weightedBinaryCrossEntropy:
            throw refused("a loss has no place in an exported inference graph")
        case .biasGradient, .conv2dBackwardInput, .conv2dBackwardWeight, .maxPoolBackward, .unaryBackward,
             .softmaxBackward, .logSoftmaxBackward, .softmaxCrossEntropyBackward, .binaryCrossEntropyBackward,
             .meanSquaredErrorBackward, .maskedMeanBackward, .regressionLossBackward,
             .weightedBinaryCrossEntropyBackward, .mixtureBackwardGates, .mixtureBackwardValues,
             .parametricUnaryBackward, .avgPoolBackward, .globalAvgPoolBackward, .layerNormBackward,
             .batchNormBackward, .embeddingBackward:
            throw refused("a backward op has no place in an exported inference graph")
        }
    }

    /// `f(x)` as Canopy's element-wise kernels define it.
    private func unary(_ function: UnaryFunction, _ x: String, hint: String) throws -> String {
        switch function {
        case .relu: return builder.one("Relu", [x], hint: hint)
        case .sigmoid: return builder.one("Sigmoid", [x], hint: hint)
        case .tanh: return builder.one("Tanh", [x], hint: hint)
        case .gelu:
            // (x / 2) · (1 + erf(x · √½)): the exact form, in the order Canopy's kernels compute it.
            let erf = builder.one("Erf", [builder.one("Mul", [x, builder.scalar(Float(0.5.squareRoot()))], hint: hint)],
                                  hint: hint)
            let half = builder.one("Mul", [builder.scalar(0.5), x], hint: hint)
            return builder.one("Mul", [half, builder.one("Add", [builder.scalar(1), erf], hint: hint)], hint: hint)
        case .silu:
            return builder.one("Mul", [x, builder.one("Sigmoid", [x], hint: hint)], hint: hint)
        }
    }

    /// Rows of `weight` [V, D] for float ids, zero for an id that is not a whole number in [0, V) or is `padding`.
    private func embedding(ids: String, weight: String, vocabulary: Int, padding: Int?, hint: String) throws -> String {
        let whole = builder.one("Equal", [builder.one("Floor", [ids], hint: hint), ids], hint: hint)
        let low = builder.one("GreaterOrEqual", [ids, builder.scalar(0)], hint: hint)
        let high = builder.one("Less", [ids, builder.scalar(Float(vocabulary))], hint: hint)
        var valid = builder.one("And", [builder.one("And", [whole, low], hint: hint), high], hint: hint)
        if let padding {
            let isPadding = builder.one("Equal", [ids, builder.scalar(Float(padding))], hint: hint)
            valid = builder.one("And", [valid, builder.one("Not", [isPadding], hint: hint)], hint: hint)
        }
        let safe = builder.one("Where", [valid, ids, builder.scalar(0)], hint: hint)
        let index = builder.one("Cast", [safe], hint: hint, [.int("to", Int(Onnx_TensorProto.DataType.int64.rawValue))])
        let rows = builder.one("Gather", [weight, index], hint: hint, [.int("axis", 0)])
        let keep = builder.one("Cast", [valid], hint: hint, [.int("to", Int(Onnx_TensorProto.DataType.float.rawValue))])
        return builder.one("Mul", [rows, builder.one("Unsqueeze", [keep, builder.int64s([-1])], hint: hint)], hint: hint)
    }
}
