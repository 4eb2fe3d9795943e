/// Translates one graph node into the kernel calls that compute it, given the buffers the plan assigned.
enum KernelEmitter {
    static func kernels(for node: Node, at index: Int, graph: Graph, mode: Executor.Mode,
                        buffer: (Value) throws -> DeviceBuffer) throws -> [PlannedKernel] {
        let x = try node.inputs.map(buffer)
        let out = try node.outputShapes.indices.map { try buffer(Value(node: index, output: $0)) }
        let inShapes = node.inputs.map { graph.shape(of: $0) }
        let outShape = node.outputShapes[0]
        let count = outShape.reduce(1, *)
        // Rows and columns of a [rows, cols] (or [rows]) value.
        func rowsCols(_ shape: [Int]) -> (Int, Int) {
            let cols = shape.count >= 2 ? shape[shape.count - 1] : 1
            return (shape.reduce(1, *) / max(cols, 1), cols)
        }
        func fixed(_ kernel: Kernel) -> [PlannedKernel] { [.fixed(kernel)] }

        switch node.op {
        case .input, .parameter, .reshape:
            return []

        case let .matmul(tA, tB):
            let k = tA ? inShapes[0][0] : inShapes[0][1]
            return fixed(.matmul(a: x[0], b: x[1], c: out[0],
                                 shape: MatmulShape(m: outShape[0], n: outShape[1], k: k, transposeA: tA, transposeB: tB)))

        case .biasAdd:
            let (outer, channels, inner) = channelView(outShape)
            return fixed(.biasAdd(x: x[0], bias: x[1], y: out[0], outer: outer, channels: channels, inner: inner))

        case .biasGradient:
            let (outer, channels, inner) = channelView(inShapes[0])
            return fixed(.biasGradient(dy: x[0], dBias: out[0], outer: outer, channels: channels, inner: inner))

        case let .conv2d(settings):
            let geometry = settings.geometry(input: inShapes[0], weight: inShapes[1])
            return fixed(.conv2d(input: x[0], weight: x[1], output: out[0], geometry: geometry))

        case let .conv2dBackwardInput(settings):
            let geometry = settings.geometry(input: outShape, weight: inShapes[1])
            return fixed(.conv2dBackwardInput(dOutput: x[0], weight: x[1], dInput: out[0], geometry: geometry))

        case let .conv2dBackwardWeight(settings):
            let geometry = settings.geometry(input: inShapes[0], weight: outShape)
            return fixed(.conv2dBackwardWeight(input: x[0], dOutput: x[1], dWeight: out[0], geometry: geometry))

        case let .maxPool(kernel, stride):
            return fixed(.maxPool(input: x[0], output: out[0], indices: out[1],
                                  geometry: poolGeometry(inShapes[0], kernel: kernel, stride: stride)))

        case let .maxPoolBackward(kernel, stride):
            return fixed(.maxPoolBackward(dOutput: x[0], indices: x[1], dInput: out[0],
                                          geometry: poolGeometry(outShape, kernel: kernel, stride: stride)))

        case let .unary(function):
            return fixed(.unary(function, x: x[0], y: out[0], count: count))

        case let .unaryBackward(function):
            return fixed(.unaryBackward(function, x: x[0], y: x[1], dy: x[2], dx: out[0], count: count))

        case let .binary(function):
            return fixed(.binary(function, a: x[0], b: x[1], y: out[0], count: count))

        case let .scale(alpha):
            return fixed(.scale(x: x[0], y: out[0], alpha: alpha, count: count))

        case let .concat(axis):
            let outer = outShape[..<axis].reduce(1, *), total = count / max(outer, 1)
            var offset = 0
            return zip(x, inShapes).map { buffer, shape in
                let cols = shape[axis...].reduce(1, *)
                defer { offset += cols }
                return .fixed(.copyBlock(x: buffer, y: out[0], rows: outer, cols: cols, xStride: cols, xOffset: 0,
                                         yStride: total, yOffset: offset))
            }

        case let .slice(axis, start, _):
            let outer = outShape[..<axis].reduce(1, *), cols = count / max(outer, 1)
            let inner = inShapes[0][(axis + 1)...].reduce(1, *)
            return fixed(.copyBlock(x: x[0], y: out[0], rows: outer, cols: cols, xStride: inShapes[0][axis...].reduce(1, *),
                                    xOffset: start * inner, yStride: cols, yOffset: 0))

        case let .embedSlice(axis, start, _):
            let outer = inShapes[0][..<axis].reduce(1, *), cols = inShapes[0].reduce(1, *) / max(outer, 1)
            let inner = outShape[(axis + 1)...].reduce(1, *)
            return [.fixed(.fill(y: out[0], value: 0, count: count)),
                    .fixed(.copyBlock(x: x[0], y: out[0], rows: outer, cols: cols, xStride: cols, xOffset: 0,
                                      yStride: outShape[axis...].reduce(1, *), yOffset: start * inner))]

        case .mixture:
            let values = inShapes[1]
            return fixed(.mixture(gates: x[0], values: x[1], y: out[0], rows: values[0], experts: values[1], features: values[2]))

        case .mixtureBackwardGates:
            let values = inShapes[0]
            return fixed(.mixtureBackwardGates(values: x[0], dy: x[1], dGates: out[0], rows: values[0],
                                               experts: values[1], features: values[2]))

        case .mixtureBackwardValues:
            return fixed(.mixtureBackwardValues(gates: x[0], dy: x[1], dValues: out[0], rows: outShape[0],
                                                experts: outShape[1], features: outShape[2]))

        case let .dropout(probability):
            guard mode == .training else { return [] }
            return [.dropout(x: x[0], y: out[0], mask: out[1], probability: probability, count: count, node: index)]

        case .softmax, .logSoftmax, .softmaxBackward, .logSoftmaxBackward:
            let (rows, cols) = rowsCols(outShape)
            switch node.op {
            case .softmax: return fixed(.softmax(x: x[0], y: out[0], rows: rows, cols: cols))
            case .logSoftmax: return fixed(.logSoftmax(x: x[0], y: out[0], rows: rows, cols: cols))
            case .softmaxBackward: return fixed(.softmaxBackward(y: x[0], dy: x[1], dx: out[0], rows: rows, cols: cols))
            default: return fixed(.logSoftmaxBackward(y: x[0], dy: x[1], dx: out[0], rows: rows, cols: cols))
            }

        case .softmaxCrossEntropy:
            let (rows, classes) = rowsCols(inShapes[0])
            return fixed(.softmaxCrossEntropy(logits: x[0], labels: x[1], mask: x[2], probs: out[1], rowLoss: out[0],
                                              rows: rows, classes: classes))

        case .softmaxCrossEntropyBackward:
            let (rows, classes) = rowsCols(outShape)
            return fixed(.softmaxCrossEntropyBackward(probs: x[0], labels: x[1], mask: x[2], dRowLoss: x[3],
                                                      dLogits: out[0], rows: rows, classes: classes))

        case .binaryCrossEntropy:
            let (rows, cols) = rowsCols(inShapes[0])
            return fixed(.binaryCrossEntropy(logits: x[0], targets: x[1], mask: x[2], rowLoss: out[0], rows: rows, cols: cols,
                                             posWeight: 1))

        case .binaryCrossEntropyBackward:
            let (rows, cols) = rowsCols(outShape)
            return fixed(.binaryCrossEntropyBackward(logits: x[0], targets: x[1], mask: x[2], dRowLoss: x[3],
                                                     dLogits: out[0], rows: rows, cols: cols, posWeight: 1))

        case .meanSquaredError:
            let (rows, cols) = rowsCols(inShapes[0])
            return fixed(.regressionLoss(.meanSquaredError, predictions: x[0], targets: x[1], mask: x[2], rowLoss: out[0],
                                         rows: rows, cols: cols))

        case .meanSquaredErrorBackward:
            let (rows, cols) = rowsCols(outShape)
            return fixed(.regressionLossBackward(.meanSquaredError, predictions: x[0], targets: x[1], mask: x[2],
                                                 dRowLoss: x[3], dPredictions: out[0], rows: rows, cols: cols))

        case .maskedMean:
            return fixed(.maskedMean(rowLoss: x[0], mask: x[1], loss: out[0], count: out[1], rows: inShapes[0][0]))

        case .maskedMeanBackward:
            return fixed(.maskedMeanBackward(dLoss: x[0], mask: x[1], count: x[2], dRowLoss: out[0], rows: outShape[0]))

        case let .regressionLoss(function):
            let (rows, cols) = rowsCols(inShapes[0])
            return fixed(.regressionLoss(function, predictions: x[0], targets: x[1], mask: x[2], rowLoss: out[0],
                                         rows: rows, cols: cols))

        case let .regressionLossBackward(function):
            let (rows, cols) = rowsCols(outShape)
            return fixed(.regressionLossBackward(function, predictions: x[0], targets: x[1], mask: x[2],
                                                 dRowLoss: x[3], dPredictions: out[0], rows: rows, cols: cols))

        case let .weightedBinaryCrossEntropy(posWeight):
            let (rows, cols) = rowsCols(inShapes[0])
            return fixed(.binaryCrossEntropy(logits: x[0], targets: x[1], mask: x[2], rowLoss: out[0], rows: rows, cols: cols,
                                             posWeight: posWeight))

        case let .weightedBinaryCrossEntropyBackward(posWeight):
            let (rows, cols) = rowsCols(outShape)
            return fixed(.binaryCrossEntropyBackward(logits: x[0], targets: x[1], mask: x[2], dRowLoss: x[3],
                                                     dLogits: out[0], rows: rows, cols: cols, posWeight: posWeight))

        case let .parametricUnary(function, parameter):
            return fixed(.parametricUnary(function, parameter: parameter, x: x[0], y: out[0], count: count))

        case let .parametricUnaryBackward(function, parameter):
            return fixed(.parametricUnaryBackward(function, parameter: parameter, x: x[0], dy: x[1], dx: out[0],
                                                  count: count))

        case let .avgPool(kernel, stride):
            return fixed(.avgPool(input: x[0], output: out[0],
                                  geometry: poolGeometry(inShapes[0], kernel: kernel, stride: stride)))

        case let .avgPoolBackward(kernel, stride):
            return fixed(.avgPoolBackward(dOutput: x[0], dInput: out[0],
                                          geometry: poolGeometry(outShape, kernel: kernel, stride: stride)))

        case .globalAvgPool:
            let planes = inShapes[0]
            return fixed(.rowMean(x: x[0], y: out[0], rows: planes[0] * planes[1], cols: planes[2] * planes[3]))

        case .globalAvgPoolBackward:
            return fixed(.rowMeanBackward(dy: x[0], dx: out[0], rows: outShape[0] * outShape[1],
                                          cols: outShape[2] * outShape[3]))

        case let .layerNorm(eps):
            let (rows, cols) = rowsCols(outShape)
            return fixed(.layerNorm(x: x[0], gamma: x[1], y: out[0], normalized: out[1], rstd: out[2],
                                    rows: rows, cols: cols, eps: eps))

        case .layerNormBackward:
            let (rows, cols) = rowsCols(outShape)
            return fixed(.layerNormBackward(normalized: x[0], rstd: x[1], gamma: x[2], dy: x[3], dx: out[0],
                                            rows: rows, cols: cols))

        case .gradientReversal:
            return []  // The output aliases x (see the executor's plan); only the backward pass differs.

        case let .batchNorm(momentum, eps):
            let (outer, channels, inner) = channelView(outShape)
            guard mode == .training else {
                return fixed(.batchNormInference(x: x[0], gamma: x[1], runningMean: x[2], runningVariance: x[3],
                                                 y: out[0], outer: outer, channels: channels, inner: inner, eps: eps))
            }
            return [.fixed(.batchNorm(x: x[0], rowMask: x[4], gamma: x[1], y: out[0], normalized: out[1], mean: out[3],
                                      variance: out[4], rstd: out[2], outer: outer, channels: channels, inner: inner,
                                      eps: eps)),
                    .stateUpdate(.batchNormRunningUpdate(mean: out[3], variance: out[4], runningMean: x[2],
                                                         runningVariance: x[3], channels: channels, momentum: momentum))]

        case .batchNormBackward:
            let (outer, channels, inner) = channelView(outShape)
            return fixed(.batchNormBackward(normalized: x[0], rstd: x[1], gamma: x[2], dy: x[3], rowMask: x[4],
                                            dx: out[0], outer: outer, channels: channels, inner: inner))
        case let .embedding(padding):
            let table = inShapes[1]
            return fixed(.embedding(ids: x[0], weight: x[1], y: out[0], tokens: inShapes[0].reduce(1, *),
                                    vocabulary: table[0], dim: table[1], padding: padding ?? -1))

        case let .embeddingBackward(padding):
            return fixed(.embeddingBackward(ids: x[0], dy: x[1], dWeight: out[0], tokens: inShapes[0].reduce(1, *),
                                            vocabulary: outShape[0], dim: outShape[1], padding: padding ?? -1))

        case let .batchedMatmul(tA, tB):
            let k = tA ? inShapes[0][1] : inShapes[0][2]
            return fixed(.batchedMatmul(a: x[0], b: x[1], c: out[0], batch: outShape[0],
                                        shape: MatmulShape(m: outShape[1], n: outShape[2], k: k,
                                                           transposeA: tA, transposeB: tB)))

        case let .swapAxes(axis):
            let s = inShapes[0]
            return fixed(.swapAxes(x: x[0], y: out[0], outer: s[..<axis].reduce(1, *), first: s[axis],
                                   second: s[axis + 1], inner: s[(axis + 2)...].reduce(1, *)))

        case let .causalMask(fill):
            let rows = outShape[outShape.count - 2], cols = outShape[outShape.count - 1]
            return fixed(.causalMask(x: x[0], y: out[0], batch: count / (rows * cols), rows: rows, cols: cols, fill: fill))
        }
    }

    /// [outer, channels, inner] view of a [N, C, ...] shape.
    private static func channelView(_ shape: [Int]) -> (Int, Int, Int) {
        (shape[0], shape.count > 1 ? shape[1] : 1, shape.dropFirst(2).reduce(1, *))
    }

    private static func poolGeometry(_ input: [Int], kernel: Int, stride: Int) -> PoolGeometry {
        PoolGeometry(batch: input[0], channels: input[1], inHeight: input[2], inWidth: input[3], kernel: kernel, stride: stride)
    }
}
