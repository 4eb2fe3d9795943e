import CanopyCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Row softmax and log-softmax with their backward passes. One row is processed start to finish by one
// thread; rows are grouped into chunks of about `elementGrain` elements.

extension CPUBackend {
    /// `y = softmax(x)` or `y = log softmax(x)` per row, subtracting the row maximum before `exp`.
    func softmax(x: DeviceBuffer, y: DeviceBuffer, rows: Int, cols: Int, log: Bool) throws {
        let x = reading(x)
        let y = writing(y)
        parallelRows(rows: rows, rowCost: cols) { range in
            for row in range {
                let xr = x + row * cols, yr = y + row * cols
                if log {
                    // (x − m) − log Σ exp(x − m): subtracting m first keeps the small part exact for huge logits.
                    let m = RowMath.maximum(xr, cols)
                    let logTotal = logf(pairwiseSum(count: cols) { expf(xr[$0] - m) })
                    for j in 0..<cols { yr[j] = (xr[j] - m) - logTotal }
                } else {
                    RowMath.softmax(xr, into: yr, cols)
                }
            }
        }
    }

    /// softmax: `dx = y ⊙ (dy − Σ_j dy·y)`; log-softmax: `dx = dy − exp(y) · Σ_j dy`.
    func softmaxBackward(y: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer, rows: Int, cols: Int, log: Bool) throws {
        let y = reading(y)
        let dy = reading(dy)
        let dx = writing(dx)
        parallelRows(rows: rows, rowCost: cols) { range in
            for row in range {
                let yr = y + row * cols, dyr = dy + row * cols, dxr = dx + row * cols
                if log {
                    let total = pairwiseSum(count: cols) { dyr[$0] }
                    for j in 0..<cols { dxr[j] = dyr[j] - expf(yr[j]) * total }
                } else {
                    let dot = pairwiseSum(count: cols) { dyr[$0] * yr[$0] }
                    for j in 0..<cols { dxr[j] = yr[j] * (dyr[j] - dot) }
                }
            }
        }
    }
}

/// Numerically careful per-row helpers shared by softmax and the cross-entropy loss.
enum RowMath {
    /// The row maximum (NaN if the row holds a NaN).
    @inline(__always)
    static func maximum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var best = x[0]
        for j in 1..<max(count, 1) {
            let v = x[j]
            if v > best || v.isNaN { best = v }
        }
        return best
    }

    /// Writes `exp(x_j − m) / Σ exp(x − m)` into `y` and returns the row maximum m and `log Σ exp(x − m)`
    /// (the logsumexp is their sum; keep them apart to subtract m from a logit before adding the log).
    @inline(__always)
    @discardableResult
    static func softmax(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                        _ count: Int) -> (maximum: Float, logTotal: Float) {
        let m = maximum(x, count)
        for j in 0..<count { y[j] = expf(x[j] - m) }
        let total = pairwiseSum(count: count) { y[$0] }
        for j in 0..<count { y[j] /= total }
        return (m, logf(total))
    }
}
