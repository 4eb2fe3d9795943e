/// The vector-Jacobian product of every differentiable ``Op``, written with graph operations.
///
/// Each rule receives the gradients of the node's outputs (nil where an output has none) and returns one
/// gradient per input (nil where the input needs none, such as labels and masks). Reading this table is
/// reading Canopy's calculus.
enum VJPRules {
    static func inputGradients(of node: Node, at index: Int, outputGradients: [Value?], needed: [Bool],
                               graph g: Graph) throws -> [Value?] {
        let x = node.inputs
        let y = Value(node: index)
        let label = "∂" + (node.label.isEmpty ? node.op.name : node.label)
        func shape(_ v: Value) -> [Int] { g.shape(of: v) }
        func emit(_ op: Op, _ inputs: [Value], like: Value) -> Value {
            g.append(op, inputs: inputs, outputShapes: [shape(like)], label: label)
        }
        func onlyFirstOutput() throws -> Value {
            for extra in outputGradients.dropFirst() where extra != nil {
                throw GraphError("\(node.op.name) (\(node.label)): gradients through its auxiliary output are not supported")
            }
            guard let dy = outputGradients[0] else { throw GraphError("internal: \(node.op.name) without a gradient") }
            return dy
        }

        switch node.op {
        case .input, .parameter:
            return []

        case let .matmul(tA, tB):
            let dC = try onlyFirstOutput()
            let dA = needed[0] ? (tA ? try g.matmul(x[1], dC, transposeA: tB, transposeB: true, label: label)
                                     : try g.matmul(dC, x[1], transposeA: false, transposeB: !tB, label: label)) : nil
            let dB = needed[1] ? (tB ? try g.matmul(dC, x[0], transposeA: true, transposeB: tA, label: label)
                                     : try g.matmul(x[0], dC, transposeA: !tA, transposeB: false, label: label)) : nil
            return [dA, dB]

        case .biasAdd:
            let dy = try onlyFirstOutput()
            let dBias = g.append(.biasGradient(channels: shape(x[1])[0]), inputs: [dy], outputShapes: [shape(x[1])], label: label)
            return [dy, dBias]

        case let .conv2d(settings):
            let dy = try onlyFirstOutput()
            return [needed[0] ? emit(.conv2dBackwardInput(settings), [dy, x[1]], like: x[0]) : nil,
                    needed[1] ? emit(.conv2dBackwardWeight(settings), [x[0], dy], like: x[1]) : nil]

        case let .maxPool(kernel, stride):
            let dy = try onlyFirstOutput()
            return [emit(.maxPoolBackward(kernel: kernel, stride: stride), [dy, Value(node: index, output: 1)], like: x[0])]

        case let .unary(function):
            // A derivative that reads only the output gets the output in the input's slot too, so the input need not
            // live until the backward pass (and a product, its bias and this function can be fused: see Executor).
            let source = function.derivativeReadsInput ? x[0] : y
            return [emit(.unaryBackward(function), [source, y, try onlyFirstOutput()], like: x[0])]

        case let .binary(function):
            let dy = try onlyFirstOutput()
            switch function {
            case .add: return [dy, dy]
            case .subtract: return [dy, needed[1] ? g.scale(dy, by: -1, label: label) : nil]
            case .multiply:
                return [needed[0] ? try g.binary(.multiply, dy, x[1], label: label) : nil,
                        needed[1] ? try g.binary(.multiply, dy, x[0], label: label) : nil]
            }

        case let .scale(alpha):
            return [g.scale(try onlyFirstOutput(), by: alpha, label: label)]

        case .reshape:
            return [try g.reshape(try onlyFirstOutput(), to: shape(x[0]), label: label)]

        case .dropout:
            return [try g.binary(.multiply, try onlyFirstOutput(), Value(node: index, output: 1), label: label)]

        case .concat(let axis):
            let dy = try onlyFirstOutput()
            var start = 0
            return try x.map { input in
                let length = shape(input)[axis]
                defer { start += length }
                return try g.slice(dy, axis: axis, start: start, length: length, label: label)
            }

        case let .slice(axis, start, length):
            return [emit(.embedSlice(axis: axis, start: start, length: length), [try onlyFirstOutput()], like: x[0])]

        case .mixture:
            let dy = try onlyFirstOutput()
            return [needed[0] ? emit(.mixtureBackwardGates, [x[1], dy], like: x[0]) : nil,
                    needed[1] ? emit(.mixtureBackwardValues, [x[0], dy], like: x[1]) : nil]

        case .softmax:
            return [emit(.softmaxBackward, [y, try onlyFirstOutput()], like: x[0])]

        case .logSoftmax:
            return [emit(.logSoftmaxBackward, [y, try onlyFirstOutput()], like: x[0])]

        case .softmaxCrossEntropy:
            let dRow = try onlyFirstOutput()
            let probs = Value(node: index, output: 1)
            return [emit(.softmaxCrossEntropyBackward, [probs, x[1], x[2], dRow], like: x[0]), nil, nil]

        case .binaryCrossEntropy:
            return [emit(.binaryCrossEntropyBackward, [x[0], x[1], x[2], try onlyFirstOutput()], like: x[0]), nil, nil]

        case .meanSquaredError:
            let dPredictions = emit(.meanSquaredErrorBackward, [x[0], x[1], x[2], try onlyFirstOutput()], like: x[0])
            return [dPredictions, needed[1] ? g.scale(dPredictions, by: -1, label: label) : nil, nil]

        case .maskedMean:
            let dLoss = try onlyFirstOutput()
            return [emit(.maskedMeanBackward, [dLoss, x[1], Value(node: index, output: 1)], like: x[0]), nil]

        case let .regressionLoss(function):
            // f(p − t): the targets' gradient is the predictions' negated, as for mean squared error.
            let dPredictions = emit(.regressionLossBackward(function), [x[0], x[1], x[2], try onlyFirstOutput()], like: x[0])
            return [dPredictions, needed[1] ? g.scale(dPredictions, by: -1, label: label) : nil, nil]

        case let .weightedBinaryCrossEntropy(posWeight):
            return [emit(.weightedBinaryCrossEntropyBackward(posWeight: posWeight),
                         [x[0], x[1], x[2], try onlyFirstOutput()], like: x[0]), nil, nil]

        case let .parametricUnary(function, parameter):
            return [emit(.parametricUnaryBackward(function, parameter), [x[0], try onlyFirstOutput()], like: x[0])]

        case let .avgPool(kernel, stride):
            return [emit(.avgPoolBackward(kernel: kernel, stride: stride), [try onlyFirstOutput()], like: x[0])]

        case .globalAvgPool:
            return [emit(.globalAvgPoolBackward, [try onlyFirstOutput()], like: x[0])]

        case .layerNorm:
            // x̂ = (x − mean)·rstd, y = x̂ ⊙ gamma: dx from x̂ and rstd; dgamma = Σ_rows dy ⊙ x̂.
            let dy = try onlyFirstOutput()
            let normalized = Value(node: index, output: 1), rstd = Value(node: index, output: 2)
            let dGamma = needed[1] ? g.append(.biasGradient(channels: shape(x[1])[0]),
                                              inputs: [try g.binary(.multiply, dy, normalized, label: label)],
                                              outputShapes: [shape(x[1])], label: label) : nil
            return [needed[0] ? emit(.layerNormBackward, [normalized, rstd, x[1], dy], like: x[0]) : nil, dGamma]

        case .layerNormBackward:
            throw GraphError("\(node.op.name): second derivatives are not supported")

        case .batchNorm:
            // As layer norm, per channel over rows and positions; the running statistics and the row mask get no
            // gradient (state and data).
            let dy = try onlyFirstOutput()
            let normalized = Value(node: index, output: 1), rstd = Value(node: index, output: 2)
            let dGamma = needed[1] ? g.append(.biasGradient(channels: shape(x[1])[0]),
                                              inputs: [try g.binary(.multiply, dy, normalized, label: label)],
                                              outputShapes: [shape(x[1])], label: label) : nil
            let dx = needed[0] ? emit(.batchNormBackward, [normalized, rstd, x[1], dy, x[4]], like: x[0]) : nil
            return [dx, dGamma, nil, nil, nil]

        case .batchNormBackward:
            throw GraphError("\(node.op.name): second derivatives are not supported")

        case let .gradientReversal(lambda):
            let reversed = g.scale(try onlyFirstOutput(), by: -lambda, label: label)
            guard x.count == 2 else { return [reversed] }
            // × the scheduled factor [1]: a [1, 1]·[1, n] matmul broadcasts it (one product per element, exact).
            let row = try g.reshape(reversed, to: [1, g.count(of: reversed)], label: label)
            let scaled = try g.matmul(try g.reshape(x[1], to: [1, 1], label: label), row, label: label)
            return [try g.reshape(scaled, to: shape(x[0]), label: label), nil]

        case .parametricUnaryBackward, .avgPoolBackward, .globalAvgPoolBackward,
             .biasGradient, .conv2dBackwardInput, .conv2dBackwardWeight, .maxPoolBackward, .unaryBackward,
             .softmaxBackward, .logSoftmaxBackward, .softmaxCrossEntropyBackward, .binaryCrossEntropyBackward,
             .meanSquaredErrorBackward, .maskedMeanBackward, .embedSlice, .mixtureBackwardGates, .mixtureBackwardValues,
             .regressionLossBackward, .weightedBinaryCrossEntropyBackward:
            throw GraphError("\(node.op.name): second derivatives are not supported")

        case let .embedding(padding):
            // The ids are data: no gradient. The table's gradient collects dy at the rows the ids used.
            let dy = try onlyFirstOutput()
            return [nil, needed[1] ? emit(.embeddingBackward(padding: padding), [x[0], dy], like: x[1]) : nil]

        case let .batchedMatmul(tA, tB):
            let dC = try onlyFirstOutput()
            let dA = needed[0] ? (tA ? try g.batchedMatmul(x[1], dC, transposeA: tB, transposeB: true, label: label)
                                     : try g.batchedMatmul(dC, x[1], transposeA: false, transposeB: !tB, label: label)) : nil
            let dB = needed[1] ? (tB ? try g.batchedMatmul(dC, x[0], transposeA: true, transposeB: tA, label: label)
                                     : try g.batchedMatmul(x[0], dC, transposeA: !tA, transposeB: false, label: label)) : nil
            return [dA, dB]

        case let .swapAxes(axis):
            return [try g.swapAxes(try onlyFirstOutput(), axis: axis, label: label)]

        case .causalMask:
            // Masked entries are constants: their gradient is 0, the others pass dy through.
            return [try g.causalMask(try onlyFirstOutput(), fill: 0, label: label)]

        case .embeddingBackward:
            throw GraphError("\(node.op.name): second derivatives are not supported")
        }
    }
}
