import CanopyCore

// Layer normalization over the last dimension and its input gradient. One row is processed start to finish by
// one thread (two passes: the mean, then the variance of the centred values); rows are grouped into chunks of
// about `elementGrain` elements.

extension CPUBackend {
    /// Scaled layer normalization (the layer's shift is a following bias add):
    /// `normalized = (x − mean) · rstd` with `rstd = 1 / sqrt(var + eps)` (biased variance), `y = normalized ⊙
    /// gamma`, per row.
    func layerNorm(x: DeviceBuffer, gamma: DeviceBuffer, y: DeviceBuffer, normalized: DeviceBuffer, rstd: DeviceBuffer,
                   rows: Int, cols: Int, eps: Float) throws {
        let x = reading(x), gamma = reading(gamma)
        let y = writing(y), normalized = writing(normalized), rstd = writing(rstd)
        let scale = 1 / Float(cols)
        parallelRows(rows: rows, rowCost: cols) { range in
            for row in range {
                let xr = x + row * cols, yr = y + row * cols, nr = normalized + row * cols
                let mean = pairwiseSum(count: cols) { xr[$0] } * scale
                let variance = pairwiseSum(count: cols) { (xr[$0] - mean) * (xr[$0] - mean) } * scale
                let r = 1 / (variance + eps).squareRoot()
                rstd[row] = r
                for j in 0..<cols {
                    let n = (xr[j] - mean) * r
                    nr[j] = n
                    yr[j] = n * gamma[j]
                }
            }
        }
    }

    /// With `g = dy ⊙ gamma`: `dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂))`, per row.
    func layerNormBackward(normalized: DeviceBuffer, rstd: DeviceBuffer, gamma: DeviceBuffer, dy: DeviceBuffer,
                           dx: DeviceBuffer, rows: Int, cols: Int) throws {
        let normalized = reading(normalized), rstd = reading(rstd), gamma = reading(gamma), dy = reading(dy)
        let dx = writing(dx)
        let scale = 1 / Float(cols)
        parallelRows(rows: rows, rowCost: cols) { range in
            for row in range {
                let nr = normalized + row * cols, dyr = dy + row * cols, dxr = dx + row * cols
                let meanG = pairwiseSum(count: cols) { dyr[$0] * gamma[$0] } * scale
                let meanGN = pairwiseSum(count: cols) { dyr[$0] * gamma[$0] * nr[$0] } * scale
                let r = rstd[row]
                for j in 0..<cols { dxr[j] = r * (dyr[j] * gamma[j] - meanG - nr[j] * meanGN) }
            }
        }
    }
}
