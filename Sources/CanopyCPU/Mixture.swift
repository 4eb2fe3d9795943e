import CanopyCore
import CCPUKernels

// Strided block copies (concatenation and slicing along any axis) and the gated sum of expert outputs of a
// multi-gate mixture of experts, with both of its gradients. Work is split by rows (a block row, or a sample n)
// into chunks fixed by the sizes; every output element is written by exactly one thread, and every sum is taken
// in an order fixed by the sizes, so results do not depend on the thread count.

extension CPUBackend {
    /// `y[r·yStride + yOffset + c] = x[r·xStride + xOffset + c]` for `r < rows`, `c < cols`; nothing else of y
    /// is read or written.
    ///
    /// Sizes must be at least 1, offsets at least 0 and both strides at least `cols` (rows of a block never
    /// overlap, so the result does not depend on the order rows are copied in). x and y must be different buffers.
    func copyBlock(x: DeviceBuffer, y: DeviceBuffer, rows: Int, cols: Int, xStride: Int, xOffset: Int,
                   yStride: Int, yOffset: Int) throws {
        let x = reading(x)
        let y = writing(y)
        parallelRows(rows: rows, rowCost: cols) { range in
            for r in range {
                (y + r * yStride + yOffset).update(from: x + r * xStride + xOffset, count: cols)
            }
        }
    }

    /// `y[n, f] = Σ_e gates[n, e] · values[n, e, f]`, gates [rows, experts], values [rows, experts, features].
    ///
    /// The sum runs over e in increasing order (expert counts are small: a handful to a few dozen), one sample n
    /// per iteration of the outer loop, with the inner loop over contiguous features.
    func mixture(gates: DeviceBuffer, values: DeviceBuffer, y: DeviceBuffer, rows: Int, experts: Int, features: Int) throws {
        let gates = reading(gates)
        let values = reading(values)
        let y = writing(y)
        parallelRows(rows: rows, rowCost: experts * features) { range in
            for n in range {
                canopy_mixture_row(gates + n * experts, values + n * experts * features, y + n * features, experts, features)
            }
        }
    }

    /// `dGates[n, e] = Σ_f dy[n, f] · values[n, e, f]`, each a pairwise sum over the features (as `pairwiseSum`).
    func mixtureBackwardGates(values: DeviceBuffer, dy: DeviceBuffer, dGates: DeviceBuffer, rows: Int, experts: Int,
                              features: Int) throws {
        let values = reading(values)
        let dy = reading(dy)
        let dGates = writing(dGates)
        parallelRows(rows: rows, rowCost: experts * features) { range in
            for n in range {
                let dyn = dy + n * features
                for e in 0..<experts {
                    let ve = values + (n * experts + e) * features
                    dGates[n * experts + e] = canopy_dot(dyn, ve, features)
                }
            }
        }
    }

    /// `dValues[n, e, f] = gates[n, e] · dy[n, f]`: every expert of sample n gets the sample's output gradient,
    /// scaled by its gate. With `accumulate` the scaled gradient is added to dValues (each product rounded, then
    /// added: the bits of a separate add).
    func mixtureBackwardValues(gates: DeviceBuffer, dy: DeviceBuffer, dValues: DeviceBuffer, rows: Int, experts: Int,
                               features: Int, accumulate: Bool) throws {
        let gates = reading(gates)
        let dy = reading(dy)
        let dValues = writing(dValues)
        parallelRows(rows: rows, rowCost: experts * features) { range in
            for n in range {
                let dyn = dy + n * features
                for e in 0..<experts {
                    let gate = gates[n * experts + e], out = dValues + (n * experts + e) * features
                    if accumulate {
                        for f in 0..<features { out[f] += gate * dyn[f] }
                    } else {
                        canopy_scale(dyn, gate, out, features)
                    }
                }
            }
        }
    }
}

extension CPUBackend {
    /// A softmax gate with its mixture: per sample n, `gates[n] = softmax(logits[n])` (as ``softmax(x:y:rows:cols:log:)``
    /// computes it), then `y[n]` as ``mixture(gates:values:y:rows:experts:features:)`` does: the same bits as the
    /// two calls.
    func mixtureSoftmax(logits: DeviceBuffer, values: DeviceBuffer, gates: DeviceBuffer, y: DeviceBuffer, rows: Int,
                        experts: Int, features: Int) throws {
        let logits = reading(logits)
        let values = reading(values)
        let gates = writing(gates)
        let y = writing(y)
        parallelRows(rows: rows, rowCost: experts * features) { range in
            for n in range {
                let gn = gates + n * experts
                RowMath.softmax(logits + n * experts, into: gn, experts)
                canopy_mixture_row(gn, values + n * experts * features, y + n * features, experts, features)
            }
        }
    }

    /// The gates gradient through their softmax: per sample n, `dGates[n, e]` as ``mixtureBackwardGates(values:dy:
    /// dGates:rows:experts:features:)`` computes it (held in dLogits' row), then `dLogits[n] = gates[n] ⊙ (dGates[n] −
    /// Σ_e dGates·gates)` as ``softmaxBackward(y:dy:dx:rows:cols:log:)`` does: the same bits as the two calls.
    func mixtureBackwardLogits(values: DeviceBuffer, gates: DeviceBuffer, dy: DeviceBuffer, dLogits: DeviceBuffer,
                               rows: Int, experts: Int, features: Int) throws {
        let values = reading(values)
        let gates = reading(gates)
        let dy = reading(dy)
        let dLogits = writing(dLogits)
        parallelRows(rows: rows, rowCost: experts * features) { range in
            for n in range {
                let dyn = dy + n * features, gn = gates + n * experts, dn = dLogits + n * experts
                for e in 0..<experts { dn[e] = canopy_dot(dyn, values + (n * experts + e) * features, features) }
                let dot = pairwiseSum(count: experts) { dn[$0] * gn[$0] }
                for e in 0..<experts { dn[e] = gn[e] * (dn[e] - dot) }
            }
        }
    }
}
