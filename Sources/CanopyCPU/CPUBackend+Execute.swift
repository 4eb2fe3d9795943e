import CanopyCore

extension CPUBackend {
    /// Runs one kernel to completion on the calling thread (and the backend's worker threads).
    ///
    /// Checks the call with ``Kernel/validate()`` (sizes, buffer counts, aliasing), then that every operand is a
    /// buffer of this backend. Throws ``BackendError/foreignBuffer(backend:)`` for a buffer this backend did not
    /// make and ``BackendError/invalidArguments(kernel:reason:)`` for a call that breaks its contract or (for the
    /// kernels that read them) labels and pooling indices out of range. Every check runs before the kernel
    /// writes anything, so a failed call leaves its outputs untouched.
    public func execute(_ kernel: Kernel) throws {
        for operand in try kernel.validate() { _ = try cpuBuffer(operand.buffer) }
        switch kernel {
        case let .fill(y, value, count):
            try fill(y: y, value: value, count: count)
        case let .copy(x, y, count):
            try copy(x: x, y: y, count: count)
        case let .matmul(a, b, c, shape):
            try matmul(a: a, b: b, c: c, shape: shape)
        case let .matmulBias(a, b, bias, c, shape, activation):
            try matmulBias(a: a, b: b, bias: bias, c: c, shape: shape, activation: activation)
        case let .biasAdd(x, bias, y, outer, channels, inner):
            try biasAdd(x: x, bias: bias, y: y, outer: outer, channels: channels, inner: inner)
        case let .biasGradient(dy, dBias, outer, channels, inner):
            try biasGradient(dy: dy, dBias: dBias, outer: outer, channels: channels, inner: inner)
        case let .conv2d(input, weight, output, geometry):
            try conv2d(input: input, weight: weight, output: output, geometry: geometry)
        case let .conv2dBias(input, weight, bias, output, geometry, activation):
            try conv2d(input: input, weight: weight, output: output, geometry: geometry,
                       epilogue: (bias: reading(bias), activation: activation))
        case let .conv2dBackwardInput(dOutput, weight, dInput, geometry):
            try conv2dBackwardInput(dOutput: dOutput, weight: weight, dInput: dInput, geometry: geometry)
        case let .conv2dBackwardWeight(input, dOutput, dWeight, geometry):
            try conv2dBackwardWeight(input: input, dOutput: dOutput, dWeight: dWeight, geometry: geometry)
        case let .maxPool(input, output, indices, geometry):
            try maxPool(input: input, output: output, indices: indices, geometry: geometry)
        case let .maxPoolBackward(dOutput, indices, dInput, geometry):
            try maxPoolBackward(dOutput: dOutput, indices: indices, dInput: dInput, geometry: geometry)
        case let .softmax(x, y, rows, cols):
            try softmax(x: x, y: y, rows: rows, cols: cols, log: false)
        case let .logSoftmax(x, y, rows, cols):
            try softmax(x: x, y: y, rows: rows, cols: cols, log: true)
        case let .softmaxBackward(y, dy, dx, rows, cols):
            try softmaxBackward(y: y, dy: dy, dx: dx, rows: rows, cols: cols, log: false)
        case let .logSoftmaxBackward(y, dy, dx, rows, cols):
            try softmaxBackward(y: y, dy: dy, dx: dx, rows: rows, cols: cols, log: true)
        case let .softmaxCrossEntropy(logits, labels, mask, probs, rowLoss, rows, classes):
            try softmaxCrossEntropy(logits: logits, labels: labels, mask: mask, probs: probs, rowLoss: rowLoss,
                                    rows: rows, classes: classes)
        case let .softmaxCrossEntropyBackward(probs, labels, mask, dRowLoss, dLogits, rows, classes):
            try softmaxCrossEntropyBackward(probs: probs, labels: labels, mask: mask, dRowLoss: dRowLoss,
                                            dLogits: dLogits, rows: rows, classes: classes)
        case let .binaryCrossEntropy(logits, targets, mask, rowLoss, rows, cols, posWeight):
            try computeRowLoss(.binaryCrossEntropy(posWeight: posWeight), prediction: logits, targets: targets, mask: mask,
                               rowLoss: rowLoss, rows: rows, cols: cols)
        case let .binaryCrossEntropyBackward(logits, targets, mask, dRowLoss, dLogits, rows, cols, posWeight):
            try computeRowLossBackward(.binaryCrossEntropy(posWeight: posWeight), prediction: logits, targets: targets,
                                       mask: mask, dRowLoss: dRowLoss, dPrediction: dLogits, rows: rows, cols: cols)
        case let .regressionLoss(function, predictions, targets, mask, rowLoss, rows, cols):
            try computeRowLoss(.regression(function), prediction: predictions, targets: targets, mask: mask, rowLoss: rowLoss,
                        rows: rows, cols: cols)
        case let .regressionLossBackward(function, predictions, targets, mask, dRowLoss, dPredictions, rows, cols):
            try computeRowLossBackward(.regression(function), prediction: predictions, targets: targets, mask: mask,
                                dRowLoss: dRowLoss, dPrediction: dPredictions, rows: rows, cols: cols)
        case let .maskedMean(rowLoss, mask, loss, count, rows):
            try maskedMean(rowLoss: rowLoss, mask: mask, loss: loss, count: count, rows: rows)
        case let .maskedMeanBackward(dLoss, mask, count, dRowLoss, rows):
            try maskedMeanBackward(dLoss: dLoss, mask: mask, count: count, dRowLoss: dRowLoss, rows: rows)
        case let .unary(function, x, y, count):
            try unary(function, x: x, y: y, count: count)
        case let .unaryBackward(function, x, y, dy, dx, count):
            try unaryBackward(function, x: x, y: y, dy: dy, dx: dx, count: count)
        case let .unaryBackwardBiasGradient(function, x, y, dy, dx, dBias, outer, channels, inner):
            try unaryBackwardBiasGradient(function, x: x, y: y, dy: dy, dx: dx, dBias: dBias, outer: outer,
                                          channels: channels, inner: inner)
        case let .parametricUnary(function, parameter, x, y, count):
            try parametricUnary(function, parameter: parameter, x: x, y: y, count: count)
        case let .parametricUnaryBackward(function, parameter, x, dy, dx, count):
            try parametricUnaryBackward(function, parameter: parameter, x: x, dy: dy, dx: dx, count: count)
        case let .avgPool(input, output, geometry):
            try avgPool(input: input, output: output, geometry: geometry)
        case let .avgPoolBackward(dOutput, dInput, geometry):
            try avgPoolBackward(dOutput: dOutput, dInput: dInput, geometry: geometry)
        case let .rowMean(x, y, rows, cols):
            try rowMean(x: x, y: y, rows: rows, cols: cols)
        case let .rowMeanBackward(dy, dx, rows, cols):
            try rowMeanBackward(dy: dy, dx: dx, rows: rows, cols: cols)
        case let .layerNorm(x, gamma, y, normalized, rstd, rows, cols, eps):
            try layerNorm(x: x, gamma: gamma, y: y, normalized: normalized, rstd: rstd, rows: rows, cols: cols, eps: eps)
        case let .layerNormBackward(normalized, rstd, gamma, dy, dx, rows, cols):
            try layerNormBackward(normalized: normalized, rstd: rstd, gamma: gamma, dy: dy, dx: dx, rows: rows, cols: cols)
        case let .batchNorm(x, rowMask, gamma, y, normalized, mean, variance, rstd, outer, channels, inner, eps):
            try batchNorm(x: x, rowMask: rowMask, gamma: gamma, y: y, normalized: normalized, mean: mean,
                          variance: variance, rstd: rstd, outer: outer, channels: channels, inner: inner, eps: eps)
        case let .batchNormRunningUpdate(mean, variance, runningMean, runningVariance, channels, momentum):
            try batchNormRunningUpdate(mean: mean, variance: variance, runningMean: runningMean,
                                       runningVariance: runningVariance, channels: channels, momentum: momentum)
        case let .batchNormInference(x, gamma, runningMean, runningVariance, y, outer, channels, inner, eps):
            try batchNormInference(x: x, gamma: gamma, runningMean: runningMean, runningVariance: runningVariance, y: y,
                                   outer: outer, channels: channels, inner: inner, eps: eps)
        case let .batchNormBackward(normalized, rstd, gamma, dy, rowMask, dx, outer, channels, inner):
            try batchNormBackward(normalized: normalized, rstd: rstd, gamma: gamma, dy: dy, rowMask: rowMask, dx: dx,
                                  outer: outer, channels: channels, inner: inner)
        case let .binary(function, a, b, y, count):
            try binary(function, a: a, b: b, y: y, count: count)
        case let .scale(x, y, alpha, count):
            try scale(x: x, y: y, alpha: alpha, count: count)
        case let .sum(x, y, count):
            try sum(x: x, y: y, count: count, squares: false)
        case let .sumOfSquares(x, y, count):
            try sum(x: x, y: y, count: count, squares: true)
        case let .dropout(x, y, mask, probability, seed, count, firstIndex):
            try dropout(x: x, y: y, mask: mask, probability: probability, seed: seed, count: count, firstIndex: firstIndex)
        case let .sgdUpdate(param, grad, velocity, count, hyper):
            try sgdUpdate(param: param, grad: grad, velocity: velocity, count: count, hyper: hyper)
        case let .adamUpdate(param, grad, m, v, count, hyper):
            try adamUpdate(param: param, grad: grad, m: m, v: v, count: count, hyper: hyper)
        case let .rmspropUpdate(param, grad, square, buffer, count, hyper):
            try rmspropUpdate(param: param, grad: grad, square: square, buffer: buffer, count: count, hyper: hyper)
        case let .copyBlock(x, y, rows, cols, xStride, xOffset, yStride, yOffset):
            try copyBlock(x: x, y: y, rows: rows, cols: cols, xStride: xStride, xOffset: xOffset,
                          yStride: yStride, yOffset: yOffset)
        case let .mixture(gates, values, y, rows, experts, features):
            try mixture(gates: gates, values: values, y: y, rows: rows, experts: experts, features: features)
        case let .mixtureBackwardGates(values, dy, dGates, rows, experts, features):
            try mixtureBackwardGates(values: values, dy: dy, dGates: dGates, rows: rows, experts: experts,
                                     features: features)
        case let .mixtureBackwardValues(gates, dy, dValues, rows, experts, features, accumulate):
            try mixtureBackwardValues(gates: gates, dy: dy, dValues: dValues, rows: rows, experts: experts,
                                      features: features, accumulate: accumulate)
        case let .mixtureSoftmax(logits, values, gates, y, rows, experts, features):
            try mixtureSoftmax(logits: logits, values: values, gates: gates, y: y, rows: rows, experts: experts,
                               features: features)
        case let .mixtureBackwardLogits(values, gates, dy, dLogits, rows, experts, features):
            try mixtureBackwardLogits(values: values, gates: gates, dy: dy, dLogits: dLogits, rows: rows,
                                      experts: experts, features: features)
        case let .embedding(ids, weight, y, tokens, vocabulary, dim, padding):
            try embedding(ids: ids, weight: weight, y: y, tokens: tokens, vocabulary: vocabulary, dim: dim, padding: padding)
        case let .embeddingBackward(ids, dy, dWeight, tokens, vocabulary, dim, padding):
            try embeddingBackward(ids: ids, dy: dy, dWeight: dWeight, tokens: tokens, vocabulary: vocabulary, dim: dim,
                                  padding: padding)
        case let .batchedMatmul(a, b, c, batch, shape):
            try batchedMatmul(a: a, b: b, c: c, batch: batch, shape: shape)
        case let .swapAxes(x, y, outer, first, second, inner):
            try swapAxes(x: x, y: y, outer: outer, first: first, second: second, inner: inner)
        case let .causalMask(x, y, batch, rows, cols, fill):
            try causalMask(x: x, y: y, batch: batch, rows: rows, cols: cols, fill: fill)
        }
    }
}

extension CPUBackend {
    /// The memory of a buffer that ``execute(_:)`` has checked: a declared operand of the call, owned by this
    /// backend and holding at least the elements the call's contract requires.
    @inline(__always)
    func reading(_ buffer: DeviceBuffer) -> UnsafePointer<Float> {
        UnsafePointer(unsafeDowncast(buffer, to: CPUBuffer.self).pointer)
    }

    /// The memory of a buffer the call writes, checked like ``reading(_:)``.
    @inline(__always)
    func writing(_ buffer: DeviceBuffer) -> UnsafeMutablePointer<Float> {
        unsafeDowncast(buffer, to: CPUBuffer.self).pointer
    }

    /// An error for a call whose contents (not sizes) are invalid, such as a label out of range.
    func invalid(_ kernel: String, _ reason: String) -> BackendError {
        BackendError.invalidArguments(kernel: kernel, reason: reason)
    }
}
