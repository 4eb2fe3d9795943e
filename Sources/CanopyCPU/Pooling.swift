import CanopyCore

// Max and average pooling over NCHW planes, no padding, and row means (global average pooling). One (n, c)
// plane (or row) is handled start to finish by one thread, so the backward scatter-adds need no atomics and their
// order (output elements in row-major order) is fixed.

extension CPUBackend {
    /// Writes each window's maximum and its index `h·W + w` within the plane (the first in row-major order on
    /// ties, since only a strictly greater value replaces the current best). 2×2 windows with stride 2 take a
    /// loop over the window pairs of two input rows (``maxPool2x2(_:_:_:inWidth:outWidth:base:)``).
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
                for oh in 0..<g.outHeight {
                    if pairs {
                        maxPool2x2(xp + 2 * oh * g.inWidth, y + o, index + o, inWidth: g.inWidth, outWidth: g.outWidth,
                                   base: 2 * oh * g.inWidth)
                        o += g.outWidth
                        continue
                    }
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

    /// One output row of 2×2, stride-2 max pooling: the windows over input rows `top` and `top + W`, whose first
    /// element has plane index `base`. The comparisons of the general loop, in its order, written as selects so
    /// that they compile to no data-dependent branches (after ReLU many windows tie at zero).
    @inline(__always)
    private func maxPool2x2(_ top: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                            _ index: UnsafeMutablePointer<Float>, inWidth: Int, outWidth: Int, base: Int) {
        let bottom = top + inWidth
        let below = Float(inWidth), first = Float(base)
        for ow in 0..<outWidth {
            let a = top[2 * ow], b = top[2 * ow + 1], c = bottom[2 * ow], d = bottom[2 * ow + 1]
            var best = a, offset: Float = 0
            var wins = b > best
            best = wins ? b : best; offset = wins ? 1 : offset
            wins = c > best
            best = wins ? c : best; offset = wins ? below : offset
            wins = d > best
            best = wins ? d : best; offset = wins ? below + 1 : offset
            y[ow] = best
            index[ow] = first + Float(2 * ow) + offset
        }
    }

    /// Zeroes dInput, then adds every dOutput element at its recorded index within its plane.
    func maxPoolBackward(dOutput: DeviceBuffer, indices: DeviceBuffer, dInput: DeviceBuffer, geometry g: PoolGeometry) throws {
        let dy = reading(dOutput)
        let index = reading(indices)
        let dx = writing(dInput)
        let inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        if let o = firstInvalidIndex(index, count: g.outputCount, planeSize: inPlane) {
            throw invalid("maxPoolBackward", "indices[\(o)] = \(index[o]) is not a position in a \(g.inHeight)×\(g.inWidth) plane")
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
