// The one place that declares each kernel's operands: per case, its size rules, then every buffer with its role
// (the case's argument label), its access, and the element count the sizes require. `Kernel.validate()` checks a
// call against this declaration for every backend. A new case does not compile until it is declared here.

extension Kernel {
    /// Applies the case's size rules and lists its operands in argument order.
    func declaredOperands() throws -> KernelContract {
        switch self {
        case let .fill(y, _, count):
            try SizeRule.positive(count, "count")
            return KernelContract(.write("y", y, count))
        case let .copy(x, y, count):
            try SizeRule.positive(count, "count")
            return KernelContract(.read("x", x, count), .write("y", y, count))

        case let .matmul(a, b, c, s):
            try SizeRule.positive(s.m, "m"); try SizeRule.positive(s.n, "n"); try SizeRule.positive(s.k, "k")
            let cCount = try SizeRule.product(s.m, s.n)
            return KernelContract(.read("a", a, try SizeRule.product(s.m, s.k)), .read("b", b, try SizeRule.product(s.k, s.n)),
                                  s.beta == 0 ? .write("c", c, cCount) : .readWrite("c", c, cCount))

        case let .matmulBias(a, b, bias, c, s, _):
            try SizeRule.positive(s.m, "m"); try SizeRule.positive(s.n, "n"); try SizeRule.positive(s.k, "k")
            guard s.beta == 0 else { throw ContractViolation("beta must be 0 (the epilogue overwrites C), got \(s.beta)") }
            return KernelContract(.read("a", a, try SizeRule.product(s.m, s.k)), .read("b", b, try SizeRule.product(s.k, s.n)),
                                  .read("bias", bias, s.n), .write("c", c, try SizeRule.product(s.m, s.n)))

        case let .biasAdd(x, bias, y, outer, channels, inner):
            let count = try channelCount(outer, channels, inner)
            return KernelContract(.read("x", x, count), .read("bias", bias, channels), .write("y", y, count))
        case let .biasGradient(dy, dBias, outer, channels, inner):
            let count = try channelCount(outer, channels, inner)
            return KernelContract(.read("dy", dy, count), .write("dBias", dBias, channels))

        case let .conv2d(input, weight, output, g):
            let n = try g.checkedCounts()
            return KernelContract(.read("input", input, n.input), .read("weight", weight, n.weight),
                                  .write("output", output, n.output))
        case let .conv2dBias(input, weight, bias, output, g, _):
            let n = try g.checkedCounts()
            return KernelContract(.read("input", input, n.input), .read("weight", weight, n.weight),
                                  .read("bias", bias, g.outChannels), .write("output", output, n.output))
        case let .conv2dBackwardInput(dOutput, weight, dInput, g):
            let n = try g.checkedCounts()
            return KernelContract(.read("dOutput", dOutput, n.output), .read("weight", weight, n.weight),
                                  .write("dInput", dInput, n.input))
        case let .conv2dBackwardWeight(input, dOutput, dWeight, g):
            let n = try g.checkedCounts()
            return KernelContract(.read("input", input, n.input), .read("dOutput", dOutput, n.output),
                                  .write("dWeight", dWeight, n.weight))

        case let .maxPool(input, output, indices, g):
            let n = try g.checkedCounts()
            return KernelContract(.read("input", input, n.input), .write("output", output, n.output),
                                  .write("indices", indices, n.output))
        case let .maxPoolBackward(dOutput, indices, dInput, g):
            let n = try g.checkedCounts()
            return KernelContract(.read("dOutput", dOutput, n.output), .read("indices", indices, n.output),
                                  .write("dInput", dInput, n.input))

        case let .softmax(x, y, rows, cols), let .logSoftmax(x, y, rows, cols):
            let count = try matrixCount(rows, "rows", cols, "cols")
            return KernelContract(.read("x", x, count), .write("y", y, count))
        case let .softmaxBackward(y, dy, dx, rows, cols), let .logSoftmaxBackward(y, dy, dx, rows, cols):
            let count = try matrixCount(rows, "rows", cols, "cols")
            return KernelContract(.read("y", y, count), .read("dy", dy, count), .write("dx", dx, count))

        case let .softmaxCrossEntropy(logits, labels, mask, probs, rowLoss, rows, classes):
            let count = try matrixCount(rows, "rows", classes, "classes")
            return KernelContract(.read("logits", logits, count), .read("labels", labels, rows), .read("mask", mask, rows),
                                  .write("probs", probs, count), .write("rowLoss", rowLoss, rows))
        case let .softmaxCrossEntropyBackward(probs, labels, mask, dRowLoss, dLogits, rows, classes):
            let count = try matrixCount(rows, "rows", classes, "classes")
            return KernelContract(.read("probs", probs, count), .read("labels", labels, rows), .read("mask", mask, rows),
                                  .read("dRowLoss", dRowLoss, rows), .write("dLogits", dLogits, count))

        case let .binaryCrossEntropy(logits, targets, mask, rowLoss, rows, cols, posWeight):
            let count = try matrixCount(rows, "rows", cols, "cols")
            try checkPositiveWeight(posWeight)
            return KernelContract(.read("logits", logits, count), .read("targets", targets, count),
                                  .read("mask", mask, rows), .write("rowLoss", rowLoss, rows))
        case let .binaryCrossEntropyBackward(logits, targets, mask, dRowLoss, dLogits, rows, cols, posWeight):
            let count = try matrixCount(rows, "rows", cols, "cols")
            try checkPositiveWeight(posWeight)
            return KernelContract(.read("logits", logits, count), .read("targets", targets, count),
                                  .read("mask", mask, rows), .read("dRowLoss", dRowLoss, rows),
                                  .write("dLogits", dLogits, count))
        case let .regressionLoss(function, predictions, targets, mask, rowLoss, rows, cols):
            let count = try matrixCount(rows, "rows", cols, "cols")
            try function.checkSettings()
            return KernelContract(.read("predictions", predictions, count), .read("targets", targets, count),
                                  .read("mask", mask, rows), .write("rowLoss", rowLoss, rows))
        case let .regressionLossBackward(function, predictions, targets, mask, dRowLoss, dPredictions, rows, cols):
            let count = try matrixCount(rows, "rows", cols, "cols")
            try function.checkSettings()
            return KernelContract(.read("predictions", predictions, count), .read("targets", targets, count),
                                  .read("mask", mask, rows), .read("dRowLoss", dRowLoss, rows),
                                  .write("dPredictions", dPredictions, count))

        case let .maskedMean(rowLoss, mask, loss, count, rows):
            try SizeRule.positive(rows, "rows")
            return KernelContract(.read("rowLoss", rowLoss, rows), .read("mask", mask, rows), .write("loss", loss, 1),
                                  .write("count", count, 1))
        case let .maskedMeanBackward(dLoss, mask, count, dRowLoss, rows):
            try SizeRule.positive(rows, "rows")
            return KernelContract(.read("dLoss", dLoss, 1), .read("mask", mask, rows), .read("count", count, 1),
                                  .write("dRowLoss", dRowLoss, rows))

        case let .copyBlock(x, y, rows, cols, xStride, xOffset, yStride, yOffset):
            try SizeRule.positive(rows, "rows"); try SizeRule.positive(cols, "cols")
            try SizeRule.atLeast(cols, xStride, "xStride"); try SizeRule.atLeast(cols, yStride, "yStride")
            try SizeRule.atLeast(0, xOffset, "xOffset"); try SizeRule.atLeast(0, yOffset, "yOffset")
            return KernelContract(
                .read("x", x, try SizeRule.blockExtent(rows: rows, cols: cols, stride: xStride, offset: xOffset)),
                .write("y", y, try SizeRule.blockExtent(rows: rows, cols: cols, stride: yStride, offset: yOffset)))

        case let .mixture(gates, values, y, rows, experts, features):
            let n = try mixtureCounts(rows, experts, features)
            return KernelContract(.read("gates", gates, n.gates), .read("values", values, n.values),
                                  .write("y", y, n.samples))
        case let .mixtureBackwardGates(values, dy, dGates, rows, experts, features):
            let n = try mixtureCounts(rows, experts, features)
            return KernelContract(.read("values", values, n.values), .read("dy", dy, n.samples),
                                  .write("dGates", dGates, n.gates))
        case let .mixtureBackwardValues(gates, dy, dValues, rows, experts, features, accumulate):
            let n = try mixtureCounts(rows, experts, features)
            return KernelContract(.read("gates", gates, n.gates), .read("dy", dy, n.samples),
                                  accumulate ? .readWrite("dValues", dValues, n.values) : .write("dValues", dValues, n.values))
        case let .mixtureSoftmax(logits, values, gates, y, rows, experts, features):
            let n = try mixtureCounts(rows, experts, features)
            return KernelContract(.read("logits", logits, n.gates), .read("values", values, n.values),
                                  .write("gates", gates, n.gates), .write("y", y, n.samples))
        case let .mixtureBackwardLogits(values, gates, dy, dLogits, rows, experts, features):
            let n = try mixtureCounts(rows, experts, features)
            return KernelContract(.read("values", values, n.values), .read("gates", gates, n.gates),
                                  .read("dy", dy, n.samples), .write("dLogits", dLogits, n.gates))

        case let .unary(_, x, y, count), let .scale(x, y, _, count):
            try SizeRule.positive(count, "count")
            return KernelContract(.read("x", x, count), .write("y", y, count))
        case let .unaryBackward(_, x, y, dy, dx, count):
            try SizeRule.positive(count, "count")
            // Each function needs one of x and y (`derivativeReadsInput`), but a backend may load both (OpenCL's
            // kernels pass both to the derivative), so both must hold `count` elements.
            return KernelContract(.read("x", x, count), .read("y", y, count), .read("dy", dy, count),
                                  .write("dx", dx, count))
        case let .unaryBackwardBiasGradient(_, x, y, dy, dx, dBias, outer, channels, inner):
            let count = try channelCount(outer, channels, inner)
            return KernelContract(.read("x", x, count), .read("y", y, count), .read("dy", dy, count),
                                  .write("dx", dx, count), .write("dBias", dBias, channels))
        case let .binary(_, a, b, y, count):
            try SizeRule.positive(count, "count")
            return KernelContract(.read("a", a, count), .read("b", b, count), .write("y", y, count))
        case let .sum(x, y, count), let .sumOfSquares(x, y, count):
            try SizeRule.positive(count, "count")
            return KernelContract(.read("x", x, count), .write("y", y, 1))

        case let .dropout(x, y, mask, probability, _, count, firstIndex):
            try SizeRule.positive(count, "count")
            guard firstIndex >= 0 else { throw ContractViolation("firstIndex must be at least 0, got \(firstIndex)") }
            guard count <= (1 << 32) - firstIndex else {
                throw ContractViolation("firstIndex \(firstIndex) + count \(count) exceeds 2³² elements (the mask's index)")
            }
            guard probability >= 0 && probability < 1 else {
                throw ContractViolation("probability must be in [0, 1), got \(probability)")
            }
            return KernelContract(.read("x", x, count), .write("y", y, count), .write("mask", mask, count))

        case let .sgdUpdate(param, grad, velocity, count, _):
            try SizeRule.positive(count, "count")
            return KernelContract(.readWrite("param", param, count), .read("grad", grad, count),
                                  .readWrite("velocity", velocity, count))
        case let .adamUpdate(param, grad, m, v, count, hyper):
            try SizeRule.positive(count, "count")
            try SizeRule.positive(hyper.step, "hyper.step")
            return KernelContract(.readWrite("param", param, count), .read("grad", grad, count),
                                  .readWrite("m", m, count), .readWrite("v", v, count))
        case let .rmspropUpdate(param, grad, square, buffer, count, _):
            try SizeRule.positive(count, "count")
            return KernelContract(.readWrite("param", param, count), .read("grad", grad, count),
                                  .readWrite("square", square, count), .readWrite("buffer", buffer, count))

        case let .parametricUnary(_, _, x, y, count):
            try SizeRule.positive(count, "count")
            return KernelContract(.read("x", x, count), .write("y", y, count))
        case let .parametricUnaryBackward(_, _, x, dy, dx, count):
            try SizeRule.positive(count, "count")
            return KernelContract(.read("x", x, count), .read("dy", dy, count), .write("dx", dx, count))

        case let .avgPool(input, output, g):
            let n = try g.checkedCounts()
            return KernelContract(.read("input", input, n.input), .write("output", output, n.output))
        case let .avgPoolBackward(dOutput, dInput, g):
            let n = try g.checkedCounts()
            return KernelContract(.read("dOutput", dOutput, n.output), .write("dInput", dInput, n.input))

        case let .rowMean(x, y, rows, cols):
            let count = try matrixCount(rows, "rows", cols, "cols")
            return KernelContract(.read("x", x, count), .write("y", y, rows))
        case let .rowMeanBackward(dy, dx, rows, cols):
            let count = try matrixCount(rows, "rows", cols, "cols")
            return KernelContract(.read("dy", dy, rows), .write("dx", dx, count))

        case let .layerNorm(x, gamma, y, normalized, rstd, rows, cols, eps):
            let count = try matrixCount(rows, "rows", cols, "cols")
            guard eps.isFinite, eps > 0 else { throw ContractViolation("eps must be finite and > 0, got \(eps)") }
            return KernelContract(.read("x", x, count), .read("gamma", gamma, cols), .write("y", y, count),
                                  .write("normalized", normalized, count), .write("rstd", rstd, rows))
        case let .layerNormBackward(normalized, rstd, gamma, dy, dx, rows, cols):
            let count = try matrixCount(rows, "rows", cols, "cols")
            return KernelContract(.read("normalized", normalized, count), .read("rstd", rstd, rows),
                                  .read("gamma", gamma, cols), .read("dy", dy, count), .write("dx", dx, count))
        case let .batchNorm(x, rowMask, gamma, y, normalized, mean, variance, rstd, outer, channels, inner, eps):
            let count = try channelCount(outer, channels, inner)
            guard eps.isFinite, eps > 0 else { throw ContractViolation("eps must be finite and > 0, got \(eps)") }
            return KernelContract(.read("x", x, count), .read("rowMask", rowMask, outer), .read("gamma", gamma, channels),
                                  .write("y", y, count), .write("normalized", normalized, count),
                                  .write("mean", mean, channels), .write("variance", variance, channels),
                                  .write("rstd", rstd, channels))
        case let .batchNormRunningUpdate(mean, variance, runningMean, runningVariance, channels, momentum):
            try SizeRule.positive(channels, "channels")
            guard momentum.isFinite, momentum >= 0, momentum <= 1 else {
                throw ContractViolation("momentum must be in [0, 1], got \(momentum)")
            }
            return KernelContract(.read("mean", mean, channels), .read("variance", variance, channels),
                                  .readWrite("runningMean", runningMean, channels),
                                  .readWrite("runningVariance", runningVariance, channels))
        case let .batchNormInference(x, gamma, runningMean, runningVariance, y, outer, channels, inner, eps):
            let count = try channelCount(outer, channels, inner)
            guard eps.isFinite, eps > 0 else { throw ContractViolation("eps must be finite and > 0, got \(eps)") }
            return KernelContract(.read("x", x, count), .read("gamma", gamma, channels),
                                  .read("runningMean", runningMean, channels),
                                  .read("runningVariance", runningVariance, channels), .write("y", y, count))
        case let .batchNormBackward(normalized, rstd, gamma, dy, rowMask, dx, outer, channels, inner):
            let count = try channelCount(outer, channels, inner)
            return KernelContract(.read("normalized", normalized, count), .read("rstd", rstd, channels),
                                  .read("gamma", gamma, channels), .read("dy", dy, count),
                                  .read("rowMask", rowMask, outer), .write("dx", dx, count))

        case let .embedding(ids, weight, y, tokens, vocabulary, dim, padding):
            let n = try embeddingCounts(tokens, vocabulary, dim, padding)
            return KernelContract(.read("ids", ids, tokens), .read("weight", weight, n.weight), .write("y", y, n.rows))
        case let .embeddingBackward(ids, dy, dWeight, tokens, vocabulary, dim, padding):
            let n = try embeddingCounts(tokens, vocabulary, dim, padding)
            return KernelContract(.read("ids", ids, tokens), .read("dy", dy, n.rows), .write("dWeight", dWeight, n.weight))
        case let .batchedMatmul(a, b, c, batch, s):
            try SizeRule.positive(batch, "batch")
            try SizeRule.positive(s.m, "m"); try SizeRule.positive(s.n, "n"); try SizeRule.positive(s.k, "k")
            let cCount = try SizeRule.product(batch, s.m, s.n)
            return KernelContract(.read("a", a, try SizeRule.product(batch, s.m, s.k)),
                                  .read("b", b, try SizeRule.product(batch, s.k, s.n)),
                                  s.beta == 0 ? .write("c", c, cCount) : .readWrite("c", c, cCount))
        case let .swapAxes(x, y, outer, first, second, inner):
            try SizeRule.positive(outer, "outer"); try SizeRule.positive(first, "first")
            try SizeRule.positive(second, "second"); try SizeRule.positive(inner, "inner")
            let count = try SizeRule.product(outer, first, second, inner)
            return KernelContract(.read("x", x, count), .write("y", y, count))
        case let .causalMask(x, y, batch, rows, cols, _):
            try SizeRule.positive(batch, "batch")
            let count = try SizeRule.product(batch, try matrixCount(rows, "rows", cols, "cols"))
            return KernelContract(.read("x", x, count), .write("y", y, count))
        }
    }

    /// The embedding's counts: y and dy `tokens·dim`, weight and dWeight `vocabulary·dim`; padding is −1 or a
    /// row of the table, and the sizes fit the 32-bit indices of the OpenCL kernels.
    private func embeddingCounts(_ tokens: Int, _ vocabulary: Int, _ dim: Int,
                                 _ padding: Int) throws -> (rows: Int, weight: Int) {
        try SizeRule.positive(tokens, "tokens"); try SizeRule.positive(vocabulary, "vocabulary")
        try SizeRule.positive(dim, "dim")
        guard padding >= -1, padding < vocabulary else {
            throw ContractViolation("padding must be −1 (none) or a row in 0..<\(vocabulary), got \(padding)")
        }
        let rows = try SizeRule.product(tokens, dim), weight = try SizeRule.product(vocabulary, dim)
        guard max(rows, weight) <= Int(Int32.max) else {
            throw ContractViolation("embedding of \(tokens) tokens from \(vocabulary)×\(dim) exceeds 32-bit indices")
        }
        return (rows, weight)
    }

    /// `outer · channels · inner`, each at least 1.
    private func channelCount(_ outer: Int, _ channels: Int, _ inner: Int) throws -> Int {
        try SizeRule.positive(outer, "outer"); try SizeRule.positive(channels, "channels")
        try SizeRule.positive(inner, "inner")
        return try SizeRule.product(outer, channels, inner)
    }

    /// `rows · cols`, each at least 1.
    private func matrixCount(_ rows: Int, _ rowsName: String, _ cols: Int, _ colsName: String) throws -> Int {
        try SizeRule.positive(rows, rowsName); try SizeRule.positive(cols, colsName)
        return try SizeRule.product(rows, cols)
    }

    /// Gates and dGates `rows·experts`, values and dValues `rows·experts·features`, y and dy `rows·features`.
    private func mixtureCounts(_ rows: Int, _ experts: Int,
                               _ features: Int) throws -> (gates: Int, values: Int, samples: Int) {
        try SizeRule.positive(rows, "rows"); try SizeRule.positive(experts, "experts")
        try SizeRule.positive(features, "features")
        let gates = try SizeRule.product(rows, experts)
        return (gates, try SizeRule.product(gates, features), try SizeRule.product(rows, features))
    }
}

extension UnaryFunction {
    /// Whether ``Kernel/unaryBackward(_:x:y:dy:dx:count:)`` reads the function's input x (gelu, silu) rather
    /// than its output y (relu `y > 0`, which holds exactly where `x > 0`; sigmoid `y(1−y)`; tanh `1−y²`).
    public var derivativeReadsInput: Bool {
        switch self {
        case .gelu, .silu: return true
        case .relu, .sigmoid, .tanh: return false
        }
    }
}

extension ConvGeometry {
    /// The element counts of input, weight and output after the size rules: every size at least 1 (padding at
    /// least 0), groups dividing both channels and filters, a kernel that fits the padded input, and counts
    /// without overflow.
    func checkedCounts() throws -> (input: Int, weight: Int, output: Int) {
        try SizeRule.positive(batch, "batch"); try SizeRule.positive(inChannels, "inChannels")
        try SizeRule.positive(inHeight, "inHeight"); try SizeRule.positive(inWidth, "inWidth")
        try SizeRule.positive(outChannels, "outChannels")
        try SizeRule.positive(kernelHeight, "kernelHeight"); try SizeRule.positive(kernelWidth, "kernelWidth")
        try SizeRule.positive(strideHeight, "strideHeight"); try SizeRule.positive(strideWidth, "strideWidth")
        try SizeRule.atLeast(0, padHeight, "padHeight"); try SizeRule.atLeast(0, padWidth, "padWidth")
        try SizeRule.positive(groups, "groups")
        guard inChannels % groups == 0, outChannels % groups == 0 else {
            throw ContractViolation("groups (\(groups)) must divide inChannels (\(inChannels)) and outChannels (\(outChannels))")
        }
        let paddedHeight = try SizeRule.sum(inHeight, try SizeRule.product(2, padHeight))
        let paddedWidth = try SizeRule.sum(inWidth, try SizeRule.product(2, padWidth))
        guard paddedHeight >= kernelHeight, paddedWidth >= kernelWidth else {
            throw ContractViolation("a \(kernelHeight)×\(kernelWidth) kernel does not fit the padded "
                + "\(inHeight)×\(inWidth) input (padding \(padHeight), \(padWidth))")
        }
        return (try SizeRule.product(batch, inChannels, inHeight, inWidth),
                try SizeRule.product(outChannels, groupChannels, kernelHeight, kernelWidth),
                try SizeRule.product(batch, outChannels, outHeight, outWidth))
    }
}

extension PoolGeometry {
    /// The element counts of input and output (and indices) after the size rules: every size at least 1, a
    /// window no larger than the input, and counts without overflow.
    func checkedCounts() throws -> (input: Int, output: Int) {
        try SizeRule.positive(batch, "batch"); try SizeRule.positive(channels, "channels")
        try SizeRule.positive(inHeight, "inHeight"); try SizeRule.positive(inWidth, "inWidth")
        try SizeRule.positive(kernel, "kernel"); try SizeRule.positive(stride, "stride")
        guard kernel <= inHeight, kernel <= inWidth else {
            throw ContractViolation("kernel \(kernel) is larger than the \(inHeight)×\(inWidth) input")
        }
        return (try SizeRule.product(batch, channels, inHeight, inWidth),
                try SizeRule.product(batch, channels, outHeight, outWidth))
    }
}
