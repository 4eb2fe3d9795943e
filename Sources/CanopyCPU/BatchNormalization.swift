import CanopyCore

// Batch normalization per channel of x viewed as [outer, channels, inner] and its input gradient. One channel is
// processed start to finish by one thread (two passes over its outer × inner values: the mean, then the variance
// of the centred values), with pairwise sums over rows of pairwise sums over positions; channels are grouped
// into chunks of about `elementGrain` elements.

extension CPUBackend {
    /// Training mode: statistics over the real rows (see ``Kernel/batchNorm(x:rowMask:gamma:y:normalized:mean:variance:rstd:outer:channels:inner:eps:)``).
    func batchNorm(x: DeviceBuffer, rowMask: DeviceBuffer, gamma: DeviceBuffer, y: DeviceBuffer,
                   normalized: DeviceBuffer, mean: DeviceBuffer, variance: DeviceBuffer, rstd: DeviceBuffer,
                   outer: Int, channels: Int, inner: Int, eps: Float) throws {
        let x = reading(x), mask = reading(rowMask), gamma = reading(gamma)
        let y = writing(y), normalized = writing(normalized)
        let mean = writing(mean), variance = writing(variance), rstd = writing(rstd)
        let count = pairwiseSum(mask, count: outer) * Float(inner)
        parallelRows(rows: channels, rowCost: outer * inner) { range in
            for c in range {
                func plane(_ n: Int) -> Int { (n * channels + c) * inner }
                let mu = pairwiseSum(count: outer) { n in
                    mask[n] == 0 ? 0 : mask[n] * pairwiseSum(count: inner) { x[plane(n) + $0] }
                } / count
                let squares = pairwiseSum(count: outer) { n in
                    mask[n] == 0 ? 0 : mask[n] * pairwiseSum(count: inner) { (x[plane(n) + $0] - mu) * (x[plane(n) + $0] - mu) }
                }
                let biased = squares / count
                let r = 1 / (biased + eps).squareRoot()
                mean[c] = mu
                variance[c] = count > 1 ? squares / (count - 1) : biased
                rstd[c] = r
                for n in 0..<outer {
                    for s in 0..<inner {
                        let v = (x[plane(n) + s] - mu) * r
                        normalized[plane(n) + s] = v
                        y[plane(n) + s] = v * gamma[c]
                    }
                }
            }
        }
    }

    /// `running ← (1 − momentum) · running + momentum · batch` for the mean and the variance.
    func batchNormRunningUpdate(mean: DeviceBuffer, variance: DeviceBuffer, runningMean: DeviceBuffer,
                                runningVariance: DeviceBuffer, channels: Int, momentum: Float) throws {
        let mean = reading(mean), variance = reading(variance)
        let runningMean = writing(runningMean), runningVariance = writing(runningVariance)
        for c in 0..<channels {
            runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean[c]
            runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * variance[c]
        }
    }

    /// Inference mode: `y = (x − runningMean) / sqrt(runningVariance + eps) · gamma` per channel.
    func batchNormInference(x: DeviceBuffer, gamma: DeviceBuffer, runningMean: DeviceBuffer,
                            runningVariance: DeviceBuffer, y: DeviceBuffer, outer: Int, channels: Int, inner: Int,
                            eps: Float) throws {
        let x = reading(x), gamma = reading(gamma), runningMean = reading(runningMean)
        let runningVariance = reading(runningVariance), y = writing(y)
        parallelRows(rows: outer * channels, rowCost: inner) { range in
            for plane in range {
                let c = plane % channels
                let scale = gamma[c] / (runningVariance[c] + eps).squareRoot(), shift = runningMean[c]
                for s in 0..<inner { y[plane * inner + s] = (x[plane * inner + s] - shift) * scale }
            }
        }
    }

    /// With `g = dy · gamma`: `dx = rstd · (g − mask · (Σ g + x̂ · Σ g·x̂) / M)` per channel.
    func batchNormBackward(normalized: DeviceBuffer, rstd: DeviceBuffer, gamma: DeviceBuffer, dy: DeviceBuffer,
                           rowMask: DeviceBuffer, dx: DeviceBuffer, outer: Int, channels: Int, inner: Int) throws {
        let normalized = reading(normalized), rstd = reading(rstd), gamma = reading(gamma), dy = reading(dy)
        let mask = reading(rowMask), dx = writing(dx)
        let count = pairwiseSum(mask, count: outer) * Float(inner)
        parallelRows(rows: channels, rowCost: outer * inner) { range in
            for c in range {
                func plane(_ n: Int) -> Int { (n * channels + c) * inner }
                let sumG = pairwiseSum(count: outer) { n in pairwiseSum(count: inner) { dy[plane(n) + $0] } } * gamma[c]
                let sumGN = pairwiseSum(count: outer) { n in
                    pairwiseSum(count: inner) { dy[plane(n) + $0] * normalized[plane(n) + $0] }
                } * gamma[c]
                let r = rstd[c]
                for n in 0..<outer {
                    let m = mask[n] / count
                    for s in 0..<inner {
                        let i = plane(n) + s
                        dx[i] = r * (dy[i] * gamma[c] - m * (sumG + normalized[i] * sumGN))
                    }
                }
            }
        }
    }
}
