/// Typed builders: each checks its operands' shapes and infers the result's.
extension Graph {
    /// `op(a)·op(b)` for rank-2 a and b.
    public func matmul(_ a: Value, _ b: Value, transposeA: Bool = false, transposeB: Bool = false,
                       label: String = "") throws -> Value {
        let sa = shape(of: a), sb = shape(of: b)
        guard sa.count == 2, sb.count == 2 else { throw GraphError("matmul needs rank-2 operands, got \(sa) and \(sb)") }
        let (m, k1) = transposeA ? (sa[1], sa[0]) : (sa[0], sa[1])
        let (k2, n) = transposeB ? (sb[1], sb[0]) : (sb[0], sb[1])
        guard k1 == k2 else { throw GraphError("matmul inner sizes differ: \(sa) and \(sb)") }
        return append(.matmul(transposeA: transposeA, transposeB: transposeB), inputs: [a, b],
                      outputShapes: [[m, n]], label: label)
    }

    /// Adds `bias` along dimension 1 of x (features of [N, F] or channels of [N, C, H, W]).
    public func biasAdd(_ x: Value, _ bias: Value, label: String = "") throws -> Value {
        let sx = shape(of: x), sb = shape(of: bias)
        guard sx.count >= 2, sb == [sx[1]] else { throw GraphError("bias \(sb) does not fit dimension 1 of \(sx)") }
        return append(.biasAdd, inputs: [x, bias], outputShapes: [sx], label: label)
    }

    /// 2-D convolution of x [N, C, H, W] with weight [F, C, K, K], square stride and zero padding.
    public func conv2d(_ x: Value, _ weight: Value, stride: Int = 1, padding: Int = 0, label: String = "") throws -> Value {
        try conv2d(x, weight, ConvSettings(stride: stride, padding: padding), label: label)
    }

    /// 2-D convolution of x [N, C, H, W] with weight [F, C/G, KH, KW] (G = `settings.groups`, dividing both C
    /// and F) under `settings`; the output [N, F, OH, OW] has the sides of ``ConvGeometry/outHeight`` and
    /// ``ConvGeometry/outWidth``.
    public func conv2d(_ x: Value, _ weight: Value, _ settings: ConvSettings, label: String = "") throws -> Value {
        let sx = shape(of: x), sw = shape(of: weight), groups = settings.groups
        guard groups >= 1 else { throw GraphError("conv2d groups must be ≥ 1, got \(groups)") }
        guard sx.count == 4, sw.count == 4, sx[1] % groups == 0, sw[0] % groups == 0, sw[1] == sx[1] / groups else {
            throw GraphError("conv2d needs x [N, C, H, W] and weight [F, C/G, KH, KW] with G = \(groups) dividing C and F, got \(sx) and \(sw)")
        }
        guard settings.strideHeight >= 1, settings.strideWidth >= 1, settings.padHeight >= 0, settings.padWidth >= 0 else {
            throw GraphError("conv2d stride must be ≥ 1 and padding ≥ 0")
        }
        let geometry = settings.geometry(input: sx, weight: sw)
        let (height, width) = (sx[2] + 2 * settings.padHeight, sx[3] + 2 * settings.padWidth)
        guard sw[2] <= height, sw[3] <= width else {
            throw GraphError("conv2d kernel \(sw[2])×\(sw[3]) is larger than its padded input \(height)×\(width)")
        }
        return append(.conv2d(settings), inputs: [x, weight],
                      outputShapes: [[sx[0], sw[0], geometry.outHeight, geometry.outWidth]], label: label)
    }

    /// Max pooling of x [N, C, H, W] with a square window. Returns the pooled value (output 0).
    public func maxPool(_ x: Value, kernel: Int, stride: Int, label: String = "") throws -> Value {
        let sx = shape(of: x)
        guard sx.count == 4 else { throw GraphError("maxpool needs x [N, C, H, W], got \(sx)") }
        guard kernel >= 1, stride >= 1, kernel <= sx[2], kernel <= sx[3] else {
            throw GraphError("maxpool window \(kernel) does not fit input \(sx[2])×\(sx[3])")
        }
        let geometry = Graph.poolGeometry(input: sx, kernel: kernel, stride: stride)
        let out = [sx[0], sx[1], geometry.outHeight, geometry.outWidth]
        return append(.maxPool(kernel: kernel, stride: stride), inputs: [x], outputShapes: [out, out], label: label)
    }

    /// Average pooling of x [N, C, H, W] with a square window: the same windows as ``maxPool(_:kernel:stride:label:)``.
    public func avgPool(_ x: Value, kernel: Int, stride: Int, label: String = "") throws -> Value {
        let sx = shape(of: x)
        guard sx.count == 4 else { throw GraphError("avgpool needs x [N, C, H, W], got \(sx)") }
        guard kernel >= 1, stride >= 1, kernel <= sx[2], kernel <= sx[3] else {
            throw GraphError("avgpool window \(kernel) does not fit input \(sx[2])×\(sx[3])")
        }
        let geometry = Graph.poolGeometry(input: sx, kernel: kernel, stride: stride)
        return append(.avgPool(kernel: kernel, stride: stride), inputs: [x],
                      outputShapes: [[sx[0], sx[1], geometry.outHeight, geometry.outWidth]], label: label)
    }

    /// The mean of each channel's plane: x [N, C, H, W] → [N, C].
    public func globalAvgPool(_ x: Value, label: String = "") throws -> Value {
        let sx = shape(of: x)
        guard sx.count == 4 else { throw GraphError("global_avgpool needs x [N, C, H, W], got \(sx)") }
        return append(.globalAvgPool, inputs: [x], outputShapes: [[sx[0], sx[1]]], label: label)
    }

    /// `function` with `parameter` applied to each element of x; same shape as x.
    public func parametricUnary(_ function: ParametricUnaryFunction, parameter: Float, _ x: Value,
                                label: String = "") -> Value {
        append(.parametricUnary(function, parameter), inputs: [x], outputShapes: [shape(of: x)], label: label)
    }

    /// `function` applied to each element of x; same shape as x.
    public func unary(_ function: UnaryFunction, _ x: Value, label: String = "") -> Value {
        append(.unary(function), inputs: [x], outputShapes: [shape(of: x)], label: label)
    }

    /// `a ∘ b` element-wise for a and b of equal shape (no broadcasting); throws when the shapes differ.
    public func binary(_ function: BinaryFunction, _ a: Value, _ b: Value, label: String = "") throws -> Value {
        guard shape(of: a) == shape(of: b) else {
            throw GraphError("\(function.rawValue) needs equal shapes, got \(shape(of: a)) and \(shape(of: b))")
        }
        return append(.binary(function), inputs: [a, b], outputShapes: [shape(of: a)], label: label)
    }

    /// `alpha · x`, element-wise; same shape as x.
    public func scale(_ x: Value, by alpha: Float, label: String = "") -> Value {
        append(.scale(alpha), inputs: [x], outputShapes: [shape(of: x)], label: label)
    }

    /// The same elements viewed with another shape of equal element count.
    public func reshape(_ x: Value, to newShape: [Int], label: String = "") throws -> Value {
        guard newShape.reduce(1, *) == count(of: x) else { throw GraphError("cannot reshape \(shape(of: x)) to \(newShape)") }
        return append(.reshape, inputs: [x], outputShapes: [newShape], label: label)
    }

    /// [N, ...] to [N, rest].
    public func flatten(_ x: Value, label: String = "") throws -> Value {
        let sx = shape(of: x)
        guard sx.count > 2 else { return x }
        return try reshape(x, to: [sx[0], sx.dropFirst().reduce(1, *)], label: label)
    }

    /// Inverted dropout with drop probability p in [0, 1).
    public func dropout(_ x: Value, probability p: Float, label: String = "") throws -> Value {
        guard p >= 0, p < 1 else { throw GraphError("dropout probability must be in [0, 1), got \(p)") }
        return append(.dropout(p), inputs: [x], outputShapes: [shape(of: x), shape(of: x)], label: label)
    }

    /// Gradient reversal: the identity forward (the output shares x's buffer), `−lambda · dy` backward, or
    /// `−lambda · factor · dy` with a `factor` value of shape [1] (an input the host sets each step to follow a
    /// schedule; the forward pass never reads it).
    ///
    /// Placed between shared features and a domain-discriminator head, it trains the head to tell the domains
    /// apart while pushing the features to hide them (Ganin & Lempitsky, 2015). `lambda` must be finite.
    public func gradientReversal(_ x: Value, lambda: Float, factor: Value? = nil, label: String = "") throws -> Value {
        guard lambda.isFinite else { throw GraphError("gradient reversal needs a finite lambda, got \(lambda)") }
        guard let factor else {
            return append(.gradientReversal(lambda: lambda), inputs: [x], outputShapes: [shape(of: x)], label: label)
        }
        guard shape(of: factor) == [1] else {
            throw GraphError("gradient reversal's factor must have shape [1], got \(shape(of: factor))")
        }
        return append(.gradientReversal(lambda: lambda), inputs: [x, factor], outputShapes: [shape(of: x)], label: label)
    }

    /// Joins values along `axis` (0 stacks batches; 1 joins features or channels).
    public func concat(_ values: [Value], axis: Int, label: String = "") throws -> Value {
        guard let first = values.first else { throw GraphError("concat needs at least one value") }
        var shape = self.shape(of: first)
        guard axis >= 0, axis < shape.count else { throw GraphError("concat axis \(axis) is outside rank \(shape.count)") }
        for value in values.dropFirst() {
            let other = self.shape(of: value)
            guard other.count == shape.count,
                  zip(other, shape).enumerated().allSatisfy({ $0.offset == axis || $0.element.0 == $0.element.1 }) else {
                throw GraphError("concat along dimension \(axis) needs equal other dimensions, got \(shape) and \(other)")
            }
            shape[axis] += other[axis]
        }
        if values.count == 1 { return first }
        return append(.concat(axis: axis), inputs: values, outputShapes: [shape], label: label)
    }

    /// `length` entries of x along `axis` from `start`.
    public func slice(_ x: Value, axis: Int, start: Int, length: Int, label: String = "") throws -> Value {
        var shape = self.shape(of: x)
        guard axis >= 0, axis < shape.count, start >= 0, length >= 1, start + length <= shape[axis] else {
            throw GraphError("slice \(start)..<\(start + length) along dimension \(axis) does not fit \(shape)")
        }
        shape[axis] = length
        return append(.slice(axis: axis, start: start, length: length), inputs: [x], outputShapes: [shape], label: label)
    }

    /// Per row, the gate-weighted sum of expert values: gates [N, E], values [N, E, F] → [N, F].
    public func mixture(gates: Value, values: Value, label: String = "") throws -> Value {
        let sg = shape(of: gates), sv = shape(of: values)
        guard sg.count == 2, sv.count == 3, sv[0] == sg[0], sv[1] == sg[1] else {
            throw GraphError("mixture needs gates [N, E] and values [N, E, F], got \(sg) and \(sv)")
        }
        return append(.mixture, inputs: [gates, values], outputShapes: [[sv[0], sv[2]]], label: label)
    }

    /// Softmax along the last dimension of x, each row computed stably. A rank-1 x counts as rows of one element,
    /// so every entry becomes 1.
    public func softmax(_ x: Value, label: String = "") -> Value {
        append(.softmax, inputs: [x], outputShapes: [shape(of: x)], label: label)
    }

    /// Log-softmax along the last dimension of x; a rank-1 x counts as rows of one element, so every entry becomes 0.
    public func logSoftmax(_ x: Value, label: String = "") -> Value {
        append(.logSoftmax, inputs: [x], outputShapes: [shape(of: x)], label: label)
    }

    /// Scaled layer normalization of each row of x [N, F] (biased variance): `y = (x − mean) / sqrt(var + eps) ⊙
    /// gamma`, with gamma [F]; PyTorch's `LayerNorm(F, eps)` is this followed by ``biasAdd(_:_:label:)`` of beta.
    /// Returns y (output 0); outputs 1 and 2 are the normalized x̂ [N, F] and the reciprocal standard deviations
    /// [N] the gradient reads.
    public func layerNorm(_ x: Value, gamma: Value, eps: Float = 1e-5, label: String = "") throws -> Value {
        let sx = shape(of: x)
        guard sx.count == 2, shape(of: gamma) == [sx[1]] else {
            throw GraphError("layernorm needs x [N, F] and gamma [F], got \(sx) and \(shape(of: gamma))")
        }
        guard eps.isFinite, eps > 0 else { throw GraphError("layernorm eps must be finite and > 0, got \(eps)") }
        return append(.layerNorm(eps: eps), inputs: [x, gamma], outputShapes: [sx, sx, [sx[0]]], label: label)
    }

    /// Scaled batch normalization of x [N, C, ...] per channel (dimension 1) over the real rows and every position:
    /// `y = (x − mean) / sqrt(var + eps) ⊙ gamma` with the batch's biased variance in training mode and the running
    /// statistics in inference mode (see ``Op/batchNorm(momentum:eps:)``); PyTorch's `BatchNorm` is this followed by
    /// ``biasAdd(_:_:label:)`` of beta. `runningMean` and `runningVariance` [C] should be non-trainable parameters;
    /// `rowMask` [N] marks the real rows. Returns y (output 0).
    public func batchNorm(_ x: Value, gamma: Value, runningMean: Value, runningVariance: Value, rowMask: Value,
                          momentum: Float = 0.1, eps: Float = 1e-5, label: String = "") throws -> Value {
        let sx = shape(of: x)
        guard sx.count >= 2 else { throw GraphError("batchnorm needs x [N, C, ...], got \(sx)") }
        let channels = [sx[1]]
        guard shape(of: gamma) == channels, shape(of: runningMean) == channels, shape(of: runningVariance) == channels,
              shape(of: rowMask) == [sx[0]] else {
            throw GraphError("batchnorm needs gamma, running mean and variance \(channels) and a row mask [\(sx[0])], "
                                + "got \(shape(of: gamma)), \(shape(of: runningMean)), \(shape(of: runningVariance)) "
                                + "and \(shape(of: rowMask))")
        }
        guard eps.isFinite, eps > 0 else { throw GraphError("batchnorm eps must be finite and > 0, got \(eps)") }
        guard momentum.isFinite, momentum >= 0, momentum <= 1 else {
            throw GraphError("batchnorm momentum must be in [0, 1], got \(momentum)")
        }
        return append(.batchNorm(momentum: momentum, eps: eps), inputs: [x, gamma, runningMean, runningVariance, rowMask],
                      outputShapes: [sx, sx, channels, channels, channels], label: label)
    }

    /// Per-row softmax cross-entropy. Returns (rowLoss [N], probabilities [N, C]).
    public func softmaxCrossEntropy(logits: Value, labels: Value, mask: Value, label: String = "") throws -> (rowLoss: Value, probabilities: Value) {
        let sl = shape(of: logits)
        guard sl.count == 2, shape(of: labels) == [sl[0]], shape(of: mask) == [sl[0]] else {
            throw GraphError("cross-entropy needs logits [N, C], labels [N] and mask [N]")
        }
        let v = append(.softmaxCrossEntropy, inputs: [logits, labels, mask], outputShapes: [[sl[0]], sl], label: label)
        return (v, Value(node: v.node, output: 1))
    }

    /// Per-row binary cross-entropy on logits, with weight `posWeight` (finite, > 0) on positive targets
    /// (PyTorch's `BCEWithLogitsLoss(pos_weight:)`); weight 1 appends the plain ``Op/binaryCrossEntropy``.
    public func binaryCrossEntropy(logits: Value, targets: Value, mask: Value, posWeight: Float = 1,
                                   label: String = "") throws -> Value {
        guard posWeight.isFinite && posWeight > 0 else {
            throw GraphError("binary cross-entropy needs a finite posWeight > 0, got \(posWeight)")
        }
        let op: Op = posWeight == 1 ? .binaryCrossEntropy : .weightedBinaryCrossEntropy(posWeight: posWeight)
        return try rowLoss(op, logits, targets, mask, label: label)
    }

    /// Per-row regression loss f (mean squared error appends ``Op/meanSquaredError``, the others
    /// ``Op/regressionLoss(_:)``).
    public func regressionLoss(_ function: RegressionLoss, predictions: Value, targets: Value, mask: Value,
                               label: String = "") throws -> Value {
        switch function {
        case .meanSquaredError:
            return try meanSquaredError(predictions: predictions, targets: targets, mask: mask, label: label)
        case .l1:
            return try rowLoss(.regressionLoss(function), predictions, targets, mask, label: label)
        case let .huber(delta):
            guard delta.isFinite && delta > 0 else { throw GraphError("huber needs a finite delta > 0, got \(delta)") }
            return try rowLoss(.regressionLoss(function), predictions, targets, mask, label: label)
        }
    }

    /// Per-row mean squared error.
    public func meanSquaredError(predictions: Value, targets: Value, mask: Value, label: String = "") throws -> Value {
        try rowLoss(.meanSquaredError, predictions, targets, mask, label: label)
    }

    private func rowLoss(_ op: Op, _ p: Value, _ t: Value, _ mask: Value, label: String) throws -> Value {
        let sp = shape(of: p)
        guard sp.count == 2, shape(of: t) == sp, shape(of: mask) == [sp[0]] else {
            throw GraphError("\(op.name) needs predictions and targets [N, K] and mask [N], got \(sp), \(shape(of: t)), \(shape(of: mask))")
        }
        return append(op, inputs: [p, t, mask], outputShapes: [[sp[0]]], label: label)
    }

    /// Mean of rowLoss over rows whose mask is 1. Returns (loss [1], count [1]).
    public func maskedMean(_ rowLoss: Value, mask: Value, label: String = "") throws -> (loss: Value, count: Value) {
        guard shape(of: rowLoss).count == 1, shape(of: mask) == shape(of: rowLoss) else {
            throw GraphError("maskedMean needs rowLoss [N] and mask [N]")
        }
        let v = append(.maskedMean, inputs: [rowLoss, mask], outputShapes: [[1], [1]], label: label)
        return (v, Value(node: v.node, output: 1))
    }

    /// The pooling of x [N, C, H, W]; its output side is ``PoolGeometry/outHeight``, the one place the formula is.
    static func poolGeometry(input sx: [Int], kernel: Int, stride: Int) -> PoolGeometry {
        PoolGeometry(batch: sx[0], channels: sx[1], inHeight: sx[2], inWidth: sx[3], kernel: kernel, stride: stride)
    }
}
