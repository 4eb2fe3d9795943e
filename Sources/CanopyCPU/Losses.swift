import CanopyCore

// Fused losses: softmax cross-entropy with integer labels, binary cross-entropy on logits (with a positive
// weight) and the regression losses (mean squared error, L1, Huber), forward (one loss per row) and backward. A row whose mask is 0 gets a loss and gradient of exactly
// 0 whatever its label, targets or logits hold (so NaN in an unlabelled row does not leak).

/// The row losses that compare a prediction with a target of the same shape.
enum RowLossKind {
    /// `max(z,0) − z·t + log(1 + exp(−|z|))` (+ `(w − 1)·t·softplus(−z)` when w ≠ 1), derivative `sigmoid(z) − t`
    /// (+ `(w − 1)·t·(sigmoid(z) − 1)`).
    case binaryCrossEntropy(posWeight: Float)
    /// `f(p − t)` of ``RegressionLoss``.
    case regression(RegressionLoss)
}

/// The element-wise terms of the row losses, shared by the forward and backward kernels.
enum LossMath {
    /// Binary cross-entropy of logit z against target t with positive weight w, without overflow: for w = 1
    /// exactly `max(z,0) − z·t + log(1 + exp(−|z|))`; otherwise that plus `(w − 1)·t·softplus(−z)`, since
    /// `−[w·t·log σ(z) + (1−t)·log(1−σ(z))] = t·softplus(−z) + (1−t)·softplus(z) + (w − 1)·t·softplus(−z)`.
    @inline(__always)
    static func binaryCrossEntropy(_ z: Float, _ t: Float, posWeight w: Float) -> Float {
        let plain = max(z, 0) - z * t + UnaryMath.softplusOfNegativeMagnitude(z)
        guard w != 1 else { return plain }
        return plain + (w - 1) * t * (max(-z, 0) + UnaryMath.softplusOfNegativeMagnitude(z))
    }

    /// The derivative in z of ``binaryCrossEntropy(_:_:posWeight:)``: `σ(z) − t`, plus `(w − 1)·t·(σ(z) − 1)`.
    @inline(__always)
    static func binaryCrossEntropyDerivative(_ z: Float, _ t: Float, posWeight w: Float) -> Float {
        let s = UnaryMath.sigmoid(z)
        guard w != 1 else { return s - t }
        return (s - t) + (w - 1) * t * (s - 1)
    }

    /// `|d|`, or Huber's `0.5·d²` within δ and `δ·(|d| − 0.5·δ)` beyond (L1 and Huber; mean squared error is
    /// written inline by the kernels so that its numbers stay as they were).
    @inline(__always)
    static func penalty(_ d: Float, huberDelta delta: Float?) -> Float {
        let a = abs(d)
        guard let delta else { return a }
        return a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta)
    }

    /// The derivative of ``penalty(_:huberDelta:)``: `sign(d)` (0 at 0), or Huber's `d` within δ and `δ·sign(d)`.
    @inline(__always)
    static func penaltyDerivative(_ d: Float, huberDelta delta: Float?) -> Float {
        let sign: Float = d > 0 ? 1 : (d < 0 ? -1 : 0)
        guard let delta else { return sign }
        return abs(d) <= delta ? d : delta * sign
    }
}

extension CPUBackend {
    func softmaxCrossEntropy(logits: DeviceBuffer, labels: DeviceBuffer, mask: DeviceBuffer, probs: DeviceBuffer,
                             rowLoss: DeviceBuffer, rows: Int, classes: Int) throws {
        let logits = reading(logits)
        let labels = reading(labels)
        let mask = reading(mask)
        let probs = writing(probs)
        let rowLoss = writing(rowLoss)
        try checkLabels(labels, mask: mask, rows: rows, classes: classes, "softmaxCrossEntropy")
        parallelRows(rows: rows, rowCost: classes) { range in
            for row in range {
                let z = logits + row * classes
                let (m, logTotal) = RowMath.softmax(z, into: probs + row * classes, classes)
                // logsumexp − z[label] = log Σ exp(z − m) − (z[label] − m), exact for huge logits.
                rowLoss[row] = mask[row] == 0 ? 0 : mask[row] * (logTotal - (z[Int(labels[row])] - m))
            }
        }
    }

    func softmaxCrossEntropyBackward(probs: DeviceBuffer, labels: DeviceBuffer, mask: DeviceBuffer,
                                     dRowLoss: DeviceBuffer, dLogits: DeviceBuffer, rows: Int, classes: Int) throws {
        let probs = reading(probs)
        let labels = reading(labels)
        let mask = reading(mask)
        let dRowLoss = reading(dRowLoss)
        let dLogits = writing(dLogits)
        try checkLabels(labels, mask: mask, rows: rows, classes: classes, "softmaxCrossEntropyBackward")
        parallelRows(rows: rows, rowCost: classes) { range in
            for row in range {
                let p = probs + row * classes, d = dLogits + row * classes
                if mask[row] == 0 {
                    d.update(repeating: 0, count: classes)
                    continue
                }
                let factor = dRowLoss[row] * mask[row]
                for j in 0..<classes { d[j] = factor * p[j] }
                let label = Int(labels[row])
                d[label] = factor * (p[label] - 1)
            }
        }
    }

    /// Throws unless every row with a non-zero mask has an integral label in `0..<classes`.
    private func checkLabels(_ labels: UnsafePointer<Float>, mask: UnsafePointer<Float>, rows: Int, classes: Int,
                             _ kernel: String) throws {
        for row in 0..<rows where mask[row] != 0 {
            let label = labels[row]
            guard label >= 0, label < Float(classes), label == label.rounded(.towardZero) else {
                throw invalid(kernel, "labels[\(row)] = \(label) is not a class index in 0..<\(classes)")
            }
        }
    }

    func computeRowLoss(_ kind: RowLossKind, prediction: DeviceBuffer, targets: DeviceBuffer, mask: DeviceBuffer,
                 rowLoss: DeviceBuffer, rows: Int, cols: Int) throws {
        let p = reading(prediction)
        let t = reading(targets)
        let mask = reading(mask)
        let rowLoss = writing(rowLoss)
        parallelRows(rows: rows, rowCost: cols) { range in
            for row in range {
                guard mask[row] != 0 else { rowLoss[row] = 0; continue }
                let pr = p + row * cols, tr = t + row * cols
                let total: Float
                switch kind {
                case let .binaryCrossEntropy(posWeight):
                    total = pairwiseSum(count: cols) { j in
                        LossMath.binaryCrossEntropy(pr[j], tr[j], posWeight: posWeight)
                    }
                case .regression(.meanSquaredError):
                    total = pairwiseSum(count: cols) { j in
                        let difference = pr[j] - tr[j]
                        return difference * difference
                    }
                case .regression(.l1):
                    total = pairwiseSum(count: cols) { j in LossMath.penalty(pr[j] - tr[j], huberDelta: nil) }
                case let .regression(.huber(delta)):
                    total = pairwiseSum(count: cols) { j in LossMath.penalty(pr[j] - tr[j], huberDelta: delta) }
                }
                rowLoss[row] = mask[row] / Float(cols) * total
            }
        }
    }

    func computeRowLossBackward(_ kind: RowLossKind, prediction: DeviceBuffer, targets: DeviceBuffer, mask: DeviceBuffer,
                         dRowLoss: DeviceBuffer, dPrediction: DeviceBuffer, rows: Int, cols: Int) throws {
        let p = reading(prediction)
        let t = reading(targets)
        let mask = reading(mask)
        let dRowLoss = reading(dRowLoss)
        let dp = writing(dPrediction)
        parallelRows(rows: rows, rowCost: cols) { range in
            for row in range {
                let base = row * cols
                guard mask[row] != 0 else { (dp + base).update(repeating: 0, count: cols); continue }
                switch kind {
                case let .binaryCrossEntropy(posWeight):
                    let factor = dRowLoss[row] * mask[row] / Float(cols)
                    for i in base..<base + cols {
                        dp[i] = factor * LossMath.binaryCrossEntropyDerivative(p[i], t[i], posWeight: posWeight)
                    }
                case .regression(.meanSquaredError):
                    let factor = dRowLoss[row] * mask[row] * 2 / Float(cols)
                    for i in base..<base + cols { dp[i] = factor * (p[i] - t[i]) }
                case .regression(.l1):
                    let factor = dRowLoss[row] * mask[row] / Float(cols)
                    for i in base..<base + cols { dp[i] = factor * LossMath.penaltyDerivative(p[i] - t[i], huberDelta: nil) }
                case let .regression(.huber(delta)):
                    let factor = dRowLoss[row] * mask[row] / Float(cols)
                    for i in base..<base + cols { dp[i] = factor * LossMath.penaltyDerivative(p[i] - t[i], huberDelta: delta) }
                }
            }
        }
    }
}
