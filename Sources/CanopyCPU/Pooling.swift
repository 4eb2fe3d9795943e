import CanopyCore

// Max pooling over NCHW planes, no padding. One (n, c) plane is handled start to finish by one thread, so the
// backward scatter-add needs no atomics and its order (output elements in row-major order) is fixed.

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

}
