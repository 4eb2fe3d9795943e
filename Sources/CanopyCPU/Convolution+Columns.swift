import CanopyCore

// The data movement of the im2col convolution: unfolding images into columns, folding columns back (summing
// overlaps), and regrouping between NCHW outputs and the [F, G·P] product matrix. See Convolution.swift.

extension CPUBackend {
    /// Fills `col` [K, images·P] from channel group `group` of `images` consecutive images at `x` (rows
    /// (c, kh, kw) with c counted within the group). Each row is written by one thread: per output row, zeros for
    /// the columns left and right of the image (from ``ColumnSpan``), a copy (strided for stride > 1) between.
    func im2col(_ x: UnsafePointer<Float>, images: Int, group: Int, _ g: ConvGeometry, _ plan: ConvPlan,
                into col: UnsafeMutablePointer<Float>) {
        let columns = images * plan.P
        let kernelArea = g.kernelHeight * g.kernelWidth
        let outWidth = g.outWidth, strideWidth = g.strideWidth
        parallelRows(rows: plan.K, rowCost: columns) { rows in
            for r in rows {
                let c = r / kernelArea, kh = (r % kernelArea) / g.kernelWidth, kw = r % g.kernelWidth
                let span = ColumnSpan(g, kw: kw)
                var out = col + r * columns
                for image in 0..<images {
                    let plane = x + image * plan.imageSize + (group * plan.groupChannels + c) * g.inHeight * g.inWidth
                    for oh in 0..<g.outHeight {
                        let h = oh * g.strideHeight - g.padHeight + kh
                        if h < 0 || h >= g.inHeight {
                            out.update(repeating: 0, count: outWidth)
                        } else {
                            // source[ow · SW] is input column ow · SW − PW + kw (inside the image for lo ≤ ow < hi).
                            let source = plane + h * g.inWidth + (kw - g.padWidth)
                            for ow in 0..<span.lo { out[ow] = 0 }
                            if strideWidth == 1 {
                                for ow in span.lo..<span.hi { out[ow] = source[ow] }
                            } else {
                                for ow in span.lo..<span.hi { out[ow] = source[ow * strideWidth] }
                            }
                            for ow in span.hi..<outWidth { out[ow] = 0 }
                        }
                        out += outWidth
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
        let outWidth = g.outWidth, strideWidth = g.strideWidth
        parallelRows(rows: images * channels, rowCost: kernelArea * plan.P) { planes in
            for index in planes {
                let image = index / channels, c = index % channels
                let plane = dx + image * plan.imageSize + (group * channels + c) * planeSize
                plane.update(repeating: 0, count: planeSize)
                for kh in 0..<g.kernelHeight {
                    for kw in 0..<g.kernelWidth {
                        let r = (c * g.kernelHeight + kh) * g.kernelWidth + kw
                        let span = ColumnSpan(g, kw: kw)
                        var source = col + r * columns + image * plan.P
                        for oh in 0..<g.outHeight {
                            let h = oh * g.strideHeight - g.padHeight + kh
                            if h >= 0 && h < g.inHeight {
                                // target[ow · SW] is input column ow · SW − PW + kw.
                                let target = plane + h * g.inWidth + (kw - g.padWidth)
                                if strideWidth == 1 {
                                    for ow in span.lo..<span.hi { target[ow] += source[ow] }
                                } else {
                                    for ow in span.lo..<span.hi { target[ow * strideWidth] += source[ow] }
                                }
                            }
                            source += outWidth
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

/// The output columns `lo ..< hi` whose input column `ow·SW − PW + kw` lies inside the image, for one kernel
/// column kw (the others read the zero padding).
struct ColumnSpan {
    let lo: Int, hi: Int

    init(_ g: ConvGeometry, kw: Int) {
        // ow·SW − PW + kw ≥ 0  ⇔  ow ≥ ⌈(PW − kw) / SW⌉;   ow·SW − PW + kw < W  ⇔  ow < ⌈(W + PW − kw) / SW⌉.
        func ceilDiv(_ a: Int, _ b: Int) -> Int { a <= 0 ? -((-a) / b) : (a + b - 1) / b }
        let lo = max(0, min(g.outWidth, ceilDiv(g.padWidth - kw, g.strideWidth)))
        self.lo = lo
        hi = max(lo, min(g.outWidth, ceilDiv(g.inWidth + g.padWidth - kw, g.strideWidth)))
    }
}
