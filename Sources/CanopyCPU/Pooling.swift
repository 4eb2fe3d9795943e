import CanopyCore
import CCPUKernels

// Max and average pooling over NCHW planes, no padding, and row means (global average pooling). One (n, c)
// plane (or row) is handled start to finish by one thread, so the backward scatter-adds need no atomics and their
// order (output elements in row-major order) is fixed.

extension CPUBackend {
    /// Writes each window's maximum and its index `h·W + w` within the plane (the first in row-major order on
    /// ties, since only a strictly greater value replaces the current best). 2×2 windows with stride 2 take a
    /// plane at a time in vectors of 16 windows (`canopy_max_pool_2x2_plane`, no data-dependent branches: after
    /// ReLU many windows tie at zero).
    func maxPool(input: DeviceBuffer, output: DeviceBuffer, indices: DeviceBuffer, geometry g: PoolGeometry) throws {
        let x = reading(input)
        let y = writing(output)
        let index = writing(indices)
        let inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        let pairs = g.kernel == 2 && g.stride == 2
        parallelRows(rows: g.batch * g.channels, rowCost: outPlane * g.kernel * g.kernel) { planes in
            for plane in planes {
                let xp = x + plane * inPlane
                var o = plane * outPlane
                if pairs {
                    canopy_max_pool_2x2_plane(xp, g.inHeight, g.inWidth, y + o, index + o)
                    continue
                }
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

    /// Zeroes dInput, then adds every dOutput element at its recorded index within its plane. For 2×2 windows with
    /// stride 2 whose indices all lie in their own windows (as maxPool records them) each plane is written once,
    /// densely, with the same bits.
    func maxPoolBackward(dOutput: DeviceBuffer, indices: DeviceBuffer, dInput: DeviceBuffer, geometry g: PoolGeometry) throws {
        let dy = reading(dOutput)
        let index = reading(indices)
        let dx = writing(dInput)
        let inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        // 2×2 windows with stride 2: when every index lies in its own window (so in the plane), planes are written
        // densely; otherwise each index is checked and the planes scattered.
        let pairs = g.kernel == 2 && g.stride == 2 && indicesInsideWindows(index, g)
        if !pairs, let o = firstInvalidIndex(index, count: g.outputCount, planeSize: inPlane) {
            throw invalid("maxPoolBackward", "indices[\(o)] = \(index[o]) is not a position in a \(g.inHeight)×\(g.inWidth) plane")
        }
        parallelRows(rows: g.batch * g.channels, rowCost: inPlane + outPlane) { planes in
            for plane in planes {
                let dxp = dx + plane * inPlane, first = plane * outPlane
                if pairs {
                    canopy_max_pool_2x2_backward_plane(dy + first, index + first, g.inHeight, g.inWidth, dxp)
                    continue
                }
                dxp.update(repeating: 0, count: inPlane)
                for o in first..<first + outPlane { dxp[Int(index[o])] += dy[o] }
            }
        }
    }

    /// Whether every plane's indices lie in their own 2×2 windows (planes checked in parallel, each to the end).
    private func indicesInsideWindows(_ index: UnsafePointer<Float>, _ g: PoolGeometry) -> Bool {
        let planes = g.batch * g.channels, outPlane = g.outHeight * g.outWidth
        let chunks = (planes + 63) / 64
        var inside = [Bool](repeating: true, count: chunks)
        inside.withUnsafeMutableBufferPointer { inside in
            parallelFor(chunks: chunks) { chunk in
                for plane in chunk * 64..<min(planes, (chunk + 1) * 64)
                where canopy_max_pool_2x2_inside(index + plane * outPlane, g.inHeight, g.inWidth) == 0 {
                    inside[chunk] = false
                    return
                }
            }
        }
        return !inside.contains(false)
    }

    /// The first of `count` indices that is not a whole number in `0 ..< planeSize`, or nil. A branch-free pass
    /// over blocks (planeSize is below 2²⁴, where floats hold every integer; one below 2²³ is whole exactly when
    /// adding and subtracting 2²³ gives it back), searched one by one only when a block fails.
    private func firstInvalidIndex(_ index: UnsafePointer<Float>, count: Int, planeSize: Int) -> Int? {
        let limit = Float(planeSize), shift: Float = 8_388_608
        let block = 4096
        for start in stride(from: 0, to: count, by: block) {
            let end = min(count, start + block)
            var valid = true
            for o in start..<end {
                let i = index[o]
                let whole = i >= shift || (i + shift) - shift == i
                valid = valid && (i >= 0) && (i < limit) && whole
            }
            if !valid {
                for o in start..<end where !(index[o] >= 0 && index[o] < limit && index[o] == index[o].rounded(.towardZero)) {
                    return o
                }
            }
        }
        return nil
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
