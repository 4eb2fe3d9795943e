import CanopyCore

// Max and average pooling over NCHW planes, no padding, and row means (global average pooling). One (n, c)
// plane (or row) is handled start to finish by one thread, so the backward scatter-adds need no atomics and their
// order (output elements in row-major order) is fixed.

extension CPUBackend {
    /// Writes each window's maximum and its index `h·W + w` within the plane (the first in row-major order on
    /// ties, since only a strictly greater value replaces the current best).
    func maxPool(input: DeviceBuffer, output: DeviceBuffer, indices: DeviceBuffer, geometry g: PoolGeometry) throws {
        let x = reading(input)
        let y = writing(output)
        let index = writing(indices)
        let inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        parallelRows(rows: g.batch * g.channels, rowCost: outPlane * g.kernel * g.kernel) { planes in
            for plane in planes {
                let xp = x + plane * inPlane
                var o = plane * outPlane
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        let h0 = oh * g.stride, w0 = ow * g.stride
                        var best = xp[h0 * g.inWidth + w0], bestIndex = h0 * g.inWidth + w0
                        for h in h0..<h0 + g.kernel {
                            for w in w0..<w0 + g.kernel where xp[h * g.inWidth + w] > best {
                                best = xp[h * g.inWidth + w]
                                bestIndex = h * g.inWidth + w
                            }
                        }
                        y[o] = best
                        index[o] = Float(bestIndex)
                        o += 1
                    }
                }
            }
        }
    }

    /// Zeroes dInput, then adds every dOutput element at its recorded index within its plane.
    func maxPoolBackward(dOutput: DeviceBuffer, indices: DeviceBuffer, dInput: DeviceBuffer, geometry g: PoolGeometry) throws {
        let dy = reading(dOutput)
        let index = reading(indices)
        let dx = writing(dInput)
        let inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        for o in 0..<g.outputCount {
            let i = index[o]
            guard i >= 0, i < Float(inPlane), i == i.rounded(.towardZero) else {
                throw invalid("maxPoolBackward", "indices[\(o)] = \(i) is not a position in a \(g.inHeight)×\(g.inWidth) plane")
            }
        }
        parallelRows(rows: g.batch * g.channels, rowCost: inPlane + outPlane) { planes in
            for plane in planes {
                let dxp = dx + plane * inPlane
                dxp.update(repeating: 0, count: inPlane)
                for o in plane * outPlane..<(plane + 1) * outPlane {
                    dxp[Int(index[o])] += dy[o]
                }
            }
        }
    }

    /// Writes each window's mean, summed in row-major order.
    func avgPool(input: DeviceBuffer, output: DeviceBuffer, geometry g: PoolGeometry) throws {
        let x = reading(input)
        let y = writing(output)
        let inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        let scale = 1 / Float(g.kernel * g.kernel)
        parallelRows(rows: g.batch * g.channels, rowCost: outPlane * g.kernel * g.kernel) { planes in
            for plane in planes {
                let xp = x + plane * inPlane
                var o = plane * outPlane
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        let h0 = oh * g.stride, w0 = ow * g.stride
                        var sum: Float = 0
                        for h in h0..<h0 + g.kernel {
                            for w in w0..<w0 + g.kernel { sum += xp[h * g.inWidth + w] }
                        }
                        y[o] = sum * scale
                        o += 1
                    }
                }
            }
        }
    }

    /// Zeroes dInput, then adds `dOutput / K²` over every window, output elements in row-major order.
    func avgPoolBackward(dOutput: DeviceBuffer, dInput: DeviceBuffer, geometry g: PoolGeometry) throws {
        let dy = reading(dOutput)
        let dx = writing(dInput)
        let inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        let scale = 1 / Float(g.kernel * g.kernel)
        parallelRows(rows: g.batch * g.channels, rowCost: inPlane + outPlane * g.kernel * g.kernel) { planes in
            for plane in planes {
                let dxp = dx + plane * inPlane
                dxp.update(repeating: 0, count: inPlane)
                var o = plane * outPlane
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        let share = dy[o] * scale
                        let h0 = oh * g.stride, w0 = ow * g.stride
                        for h in h0..<h0 + g.kernel {
                            for w in w0..<w0 + g.kernel { dxp[h * g.inWidth + w] += share }
                        }
                        o += 1
                    }
                }
            }
        }
    }

    /// `y[r] = Σ_j x[r, j] / cols`, each row summed in order by one thread.
    func rowMean(x: DeviceBuffer, y: DeviceBuffer, rows: Int, cols: Int) throws {
        let x = reading(x)
        let y = writing(y)
        let scale = 1 / Float(cols)
        parallelRows(rows: rows, rowCost: cols) { range in
            for r in range {
                var sum: Float = 0
                for j in r * cols..<(r + 1) * cols { sum += x[j] }
                y[r] = sum * scale
            }
        }
    }

    /// `dx[r, j] = dy[r] / cols`.
    func rowMeanBackward(dy: DeviceBuffer, dx: DeviceBuffer, rows: Int, cols: Int) throws {
        let dy = reading(dy)
        let dx = writing(dx)
        let scale = 1 / Float(cols)
        parallelRows(rows: rows, rowCost: cols) { range in
            for r in range { (dx + r * cols).update(repeating: dy[r] * scale, count: cols) }
        }
    }
}
