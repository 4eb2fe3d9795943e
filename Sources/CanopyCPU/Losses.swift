import CanopyCore

// Fused losses: softmax cross-entropy with integer labels, binary cross-entropy on logits and mean squared
// error, forward (one loss per row) and backward. A row whose mask is 0 gets a loss and gradient of exactly
// 0 whatever its label, targets or logits hold (so NaN in an unlabelled row does not leak).

/// The row losses that compare a prediction with a target of the same shape.
enum RowLossKind {
    /// `max(z,0) − z·t + log(1 + exp(−|z|))`, derivative `sigmoid(z) − t`.
    case binaryCrossEntropy
    /// `(p − t)²`, derivative `2(p − t)`.
    case meanSquaredError
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
                case .binaryCrossEntropy:
                    total = pairwiseSum(count: cols) { j in
                        let z = pr[j]
                        return max(z, 0) - z * tr[j] + UnaryMath.softplusOfNegativeMagnitude(z)
                    }
                case .meanSquaredError:
                    total = pairwiseSum(count: cols) { j in
                        let difference = pr[j] - tr[j]
                        return difference * difference
                    }
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
                case .binaryCrossEntropy:
                    let factor = dRowLoss[row] * mask[row] / Float(cols)
                    for i in base..<base + cols { dp[i] = factor * (UnaryMath.sigmoid(p[i]) - t[i]) }
                case .meanSquaredError:
                    let factor = dRowLoss[row] * mask[row] * 2 / Float(cols)
                    for i in base..<base + cols { dp[i] = factor * (p[i] - t[i]) }
                }
            }
        }
    }
}
