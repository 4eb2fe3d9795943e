import CanopyCore

// The data movement of the im2col convolution: unfolding images into columns, folding columns back (summing
// overlaps), and regrouping between NCHW outputs and the [F, G·P] product matrix. See Convolution.swift.

extension CPUBackend {
    /// Fills `col` [K, images·P] from channel group `group` of `images` consecutive images at `x` (rows
    /// (c, kh, kw) with c counted within the group). Each row is written by one thread.
    func im2col(_ x: UnsafePointer<Float>, images: Int, group: Int, _ g: ConvGeometry, _ plan: ConvPlan,
                into col: UnsafeMutablePointer<Float>) {
        let columns = images * plan.P
        let kernelArea = g.kernelHeight * g.kernelWidth
        parallelRows(rows: plan.K, rowCost: columns) { rows in
            for r in rows {
                let c = r / kernelArea, kh = (r % kernelArea) / g.kernelWidth, kw = r % g.kernelWidth
                var out = col + r * columns
                for image in 0..<images {
                    let plane = x + image * plan.imageSize + (group * plan.groupChannels + c) * g.inHeight * g.inWidth
                    for oh in 0..<g.outHeight {
                        let h = oh * g.strideHeight - g.padHeight + kh
                        guard h >= 0 && h < g.inHeight else {
                            out.update(repeating: 0, count: g.outWidth)
                            out += g.outWidth
                            continue
                        }
                        let source = plane + h * g.inWidth
                        for ow in 0..<g.outWidth {
                            let w = ow * g.strideWidth - g.padWidth + kw
                            out[ow] = (w >= 0 && w < g.inWidth) ? source[w] : 0
                        }
                        out += g.outWidth
                    }
                }
            }
        }
    }

    /// Overwrites channel group `group` of `images` consecutive images at `dx` with the sum of the `col`
    /// entries that unfold from each input position. Each (image, c) plane is written by one thread, adding rows
    /// in (kh, kw, oh, ow) order.
    func col2im(_ col: UnsafePointer<Float>, images: Int, group: Int, _ g: ConvGeometry, _ plan: ConvPlan,
                into dx: UnsafeMutablePointer<Float>) {
        let columns = images * plan.P
        let kernelArea = g.kernelHeight * g.kernelWidth
        let planeSize = g.inHeight * g.inWidth
        let channels = plan.groupChannels
        parallelRows(rows: images * channels, rowCost: kernelArea * plan.P) { planes in
            for index in planes {
                let image = index / channels, c = index % channels
                let plane = dx + image * plan.imageSize + (group * channels + c) * planeSize
                plane.update(repeating: 0, count: planeSize)
                for kh in 0..<g.kernelHeight {
                    for kw in 0..<g.kernelWidth {
                        let r = (c * g.kernelHeight + kh) * g.kernelWidth + kw
                        var source = col + r * columns + image * plan.P
                        for oh in 0..<g.outHeight {
                            let h = oh * g.strideHeight - g.padHeight + kh
                            if h >= 0 && h < g.inHeight {
                                let target = plane + h * g.inWidth
                                for ow in 0..<g.outWidth {
                                    let w = ow * g.strideWidth - g.padWidth + kw
                                    if w >= 0 && w < g.inWidth { target[w] += source[ow] }
                                }
                            }
                            source += g.outWidth
                        }
                    }
                }
            }
        }
    }

    /// `images[i, f, p] = product[f, i·P + p]`.
    func regroup(_ product: UnsafePointer<Float>, toImages y: UnsafeMutablePointer<Float>, images: Int,
                 _ g: ConvGeometry, _ plan: ConvPlan) {
        let columns = images * plan.P
        parallelRows(rows: images * g.outChannels, rowCost: plan.P) { rows in
            for row in rows {
                let image = row / g.outChannels, f = row % g.outChannels
                (y + row * plan.P).update(from: product + f * columns + image * plan.P, count: plan.P)
            }
        }
    }

    /// `product[f, i·P + p] = images[i, f, p]`.
    func regroup(fromImages dy: UnsafePointer<Float>, into product: UnsafeMutablePointer<Float>, images: Int,
                 _ g: ConvGeometry, _ plan: ConvPlan) {
        let columns = images * plan.P
        parallelRows(rows: images * g.outChannels, rowCost: plan.P) { rows in
            for row in rows {
                let image = row / g.outChannels, f = row % g.outChannels
                (product + f * columns + image * plan.P).update(from: dy + row * plan.P, count: plan.P)
            }
        }
    }
}
