import CanopyCore

// Reductions: sum, sum of squares, the bias gradient and the masked mean of row losses. All sums are pairwise
// (see Summation.swift) in an order fixed by the sizes.

extension CPUBackend {
    func sum(x: DeviceBuffer, y: DeviceBuffer, count: Int, squares: Bool, _ args: inout KernelArguments) throws {
        try args.size(count, "count")
        let x = try args.input(x, "x", count: count)
        let y = try args.output(y, "y", count: 1)
        try args.checkAliasing()
        y[0] = squares ? parallelSum(count: count) { x[$0] * x[$0] } : parallelSum(count: count) { x[$0] }
    }

    /// `dBias[c] = Σ_o Σ_i dy[o, c, i]`: the inner sum pairwise per (o, c), then pairwise over o.
    func biasGradient(dy: DeviceBuffer, dBias: DeviceBuffer, outer: Int, channels: Int, inner: Int,
                      _ args: inout KernelArguments) throws {
        try args.size(outer, "outer"); try args.size(channels, "channels"); try args.size(inner, "inner")
        let count = try args.product(outer, channels, inner)
        let dy = try args.input(dy, "dy", count: count)
        let dBias = try args.output(dBias, "dBias", count: channels)
        try args.checkAliasing()
        parallelRows(rows: channels, rowCost: outer * inner) { range in
            for c in range {
                if inner == 1 {
                    dBias[c] = pairwiseSum(count: outer) { o in dy[o * channels + c] }
                } else {
                    dBias[c] = pairwiseSum(count: outer) { o in
                        let plane = dy + (o * channels + c) * inner
                        return pairwiseSum(count: inner) { plane[$0] }
                    }
                }
            }
        }
    }

    /// `count[0] = Σ mask`, `loss[0] = Σ rowLoss / max(count[0], 1)`.
    func maskedMean(rowLoss: DeviceBuffer, mask: DeviceBuffer, loss: DeviceBuffer, count: DeviceBuffer, rows: Int,
                    _ args: inout KernelArguments) throws {
        try args.size(rows, "rows")
        let rowLoss = try args.input(rowLoss, "rowLoss", count: rows)
        let mask = try args.input(mask, "mask", count: rows)
        let loss = try args.output(loss, "loss", count: 1)
        let labelled = try args.output(count, "count", count: 1)
        try args.checkAliasing()
        let n = parallelSum(count: rows) { mask[$0] }
        labelled[0] = n
        loss[0] = parallelSum(count: rows) { rowLoss[$0] } / max(n, 1)
    }

    /// `dRowLoss[i] = dLoss[0] · mask[i] / max(count[0], 1)`.
    func maskedMeanBackward(dLoss: DeviceBuffer, mask: DeviceBuffer, count: DeviceBuffer, dRowLoss: DeviceBuffer,
                            rows: Int, _ args: inout KernelArguments) throws {
        try args.size(rows, "rows")
        let dLoss = try args.input(dLoss, "dLoss", count: 1)
        let mask = try args.input(mask, "mask", count: rows)
        let labelled = try args.input(count, "count", count: 1)
        let dRowLoss = try args.output(dRowLoss, "dRowLoss", count: rows)
        try args.checkAliasing()
        let factor = dLoss[0] / max(labelled[0], 1)
        parallelRanges(count: rows) { range in
            for i in range { dRowLoss[i] = factor * mask[i] }
        }
    }
}
