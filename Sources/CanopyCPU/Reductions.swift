import CanopyCore
import CCPUKernels

// Reductions: sum, sum of squares, the bias gradient and the masked mean of row losses. All sums are pairwise
// (see Summation.swift) in an order fixed by the sizes.

extension CPUBackend {
    func sum(x: DeviceBuffer, y: DeviceBuffer, count: Int, squares: Bool) throws {
        let x = reading(x)
        let y = writing(y)
        // C kernels per chunk, with the terms and tree of the Swift pairwiseSum (the same bits).
        y[0] = parallelChunkSum(count: count) { start, length in
            squares ? canopy_dot(x + start, x + start, length) : canopy_sum(x + start, length)
        }
    }

    /// `dBias[c] = Σ_o Σ_i dy[o, c, i]`: the inner sum pairwise per (o, c), then pairwise over o.
    func biasGradient(dy: DeviceBuffer, dBias: DeviceBuffer, outer: Int, channels: Int, inner: Int) throws {
        let dy = reading(dy)
        let dBias = writing(dBias)
        if inner == 1 {
            // A dense layer's [outer, channels]: sixteen channels at a time, each summed exactly as alone.
            let width = 16, blocks = (channels + width - 1) / width
            parallelRows(rows: blocks, rowCost: outer * width) { range in
                let first = range.lowerBound * width, last = min(channels, range.upperBound * width)
                canopy_column_sums(dy + first, dBias + first, outer, last - first, channels)
            }
            return
        }
        parallelRows(rows: channels, rowCost: outer * inner) { range in
            for c in range {
                dBias[c] = pairwiseSum(count: outer) { o in
                    let plane = dy + (o * channels + c) * inner
                    return pairwiseSum(count: inner) { plane[$0] }
                }
            }
        }
    }

    /// ``unaryBackward`` and ``biasGradient`` in one pass: each block of channels gets its derivatives and then its
    /// sums while it is in cache, by the same element functions and the same sums as the two calls (their bits).
    func unaryBackwardBiasGradient(_ function: UnaryFunction, x: DeviceBuffer, y: DeviceBuffer, dy: DeviceBuffer,
                                   dx: DeviceBuffer, dBias: DeviceBuffer, outer: Int, channels: Int, inner: Int) throws {
        let source = function.derivativeReadsInput ? reading(x) : reading(y)
        let dy = reading(dy)
        let dx = writing(dx)
        let dBias = writing(dBias)
        if inner == 1 {
            // A dense layer's [outer, channels]: sixteen channels at a time, as biasGradient sums them.
            let width = 16, blocks = (channels + width - 1) / width
            parallelRows(rows: blocks, rowCost: outer * width) { range in
                let first = range.lowerBound * width, last = min(channels, range.upperBound * width)
                for row in 0..<outer {
                    let start = row * channels
                    CPUBackend.applyDerivative(function, source: source + start, dy: dy + start, dx: dx + start,
                                               range: first..<last)
                }
                canopy_column_sums(dx + first, dBias + first, outer, last - first, channels)
            }
            return
        }
        parallelRows(rows: channels, rowCost: outer * inner) { range in
            for c in range {
                for o in 0..<outer {
                    let start = (o * channels + c) * inner
                    CPUBackend.applyDerivative(function, source: source + start, dy: dy + start, dx: dx + start,
                                               range: 0..<inner)
                }
                dBias[c] = pairwiseSum(count: outer) { o in
                    let plane = dx + (o * channels + c) * inner
                    return pairwiseSum(count: inner) { plane[$0] }
                }
            }
        }
    }

    /// `count[0] = Σ mask`, `loss[0] = Σ rowLoss / max(count[0], 1)`.
    func maskedMean(rowLoss: DeviceBuffer, mask: DeviceBuffer, loss: DeviceBuffer, count: DeviceBuffer, rows: Int) throws {
        let rowLoss = reading(rowLoss)
        let mask = reading(mask)
        let loss = writing(loss)
        let labelled = writing(count)
        let n = parallelSum(count: rows) { mask[$0] }
        labelled[0] = n
        loss[0] = parallelSum(count: rows) { rowLoss[$0] } / max(n, 1)
    }

    /// `dRowLoss[i] = dLoss[0] · mask[i] / max(count[0], 1)`.
    func maskedMeanBackward(dLoss: DeviceBuffer, mask: DeviceBuffer, count: DeviceBuffer, dRowLoss: DeviceBuffer,
                            rows: Int) throws {
        let dLoss = reading(dLoss)
        let mask = reading(mask)
        let labelled = reading(count)
        let dRowLoss = writing(dRowLoss)
        let factor = dLoss[0] / max(labelled[0], 1)
        parallelRanges(count: rows) { range in
            for i in range { dRowLoss[i] = factor * mask[i] }
        }
    }
}
