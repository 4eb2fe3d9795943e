import CanopyCore

// 2-D convolution (cross-correlation, zero padding) as im2col + sgemm.
//
// Images are processed in groups of G consecutive images, G chosen from the geometry alone so that the column
// matrix stays under `columnBudget` floats. For a group, `col` is [K, G·P] with K = C·KH·KW rows indexed
// (c, kh, kw) and G·P columns indexed (image, oh, ow); col[(c,kh,kw), (i,oh,ow)] = x[i, c, oh·sh−ph+kh, ow·sw−pw+kw]
// or 0 outside the image. Then
//   forward:         out[F, G·P]  = W[F, K] · col
//   backward input:  dcol[K, G·P] = Wᵀ · dOut[F, G·P], scattered back by col2im (summing overlaps)
//   backward weight: dW[F, K]    += dOut[F, G·P] · colᵀ   (beta = 0 for the first group, 1 after)
// The [F, G·P] matrices are NCHW output planes regrouped; with G = 1 the output itself is used directly.

extension CPUBackend {
    func conv2d(input: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer, geometry g: ConvGeometry) throws {
        try checkColumns(g, "conv2d")
        let x = reading(input)
        let w = reading(weight)
        let y = writing(output)
        let plan = ConvPlan(g, columnBudget: columnBudget)
        for first in stride(from: 0, to: g.batch, by: plan.group) {
            let images = min(plan.group, g.batch - first)
            let col = scratch.floats(plan.K * images * plan.P, slot: .columns)
            im2col(x + first * plan.imageSize, images: images, g, plan, into: col)
            if images == 1 {
                sgemm(transposeA: false, transposeB: false, m: g.outChannels, n: plan.P, k: plan.K, alpha: 1,
                      a: w, lda: plan.K, b: col, ldb: plan.P, beta: 0, c: y + first * plan.outputImageSize, ldc: plan.P)
            } else {
                let product = scratch.floats(g.outChannels * images * plan.P, slot: .product)
                sgemm(transposeA: false, transposeB: false, m: g.outChannels, n: images * plan.P, k: plan.K,
                      alpha: 1, a: w, lda: plan.K, b: col, ldb: plan.P * images, beta: 0, c: product,
                      ldc: images * plan.P)
                regroup(product, toImages: y + first * plan.outputImageSize, images: images, g, plan)
            }
        }
    }

    func conv2dBackwardInput(dOutput: DeviceBuffer, weight: DeviceBuffer, dInput: DeviceBuffer,
                             geometry g: ConvGeometry) throws {
        try checkColumns(g, "conv2dBackwardInput")
        let dy = reading(dOutput)
        let w = reading(weight)
        let dx = writing(dInput)
        let plan = ConvPlan(g, columnBudget: columnBudget)
        for first in stride(from: 0, to: g.batch, by: plan.group) {
            let images = min(plan.group, g.batch - first)
            let columns = images * plan.P
            var dyGroup = UnsafePointer(dy + first * plan.outputImageSize)
            if images > 1 {
                let product = scratch.floats(g.outChannels * columns, slot: .product)
                regroup(fromImages: dyGroup, into: product, images: images, g, plan)
                dyGroup = UnsafePointer(product)
            }
            let col = scratch.floats(plan.K * columns, slot: .columns)
            sgemm(transposeA: true, transposeB: false, m: plan.K, n: columns, k: g.outChannels, alpha: 1,
                  a: w, lda: plan.K, b: dyGroup, ldb: columns, beta: 0, c: col, ldc: columns)
            col2im(col, images: images, g, plan, into: dx + first * plan.imageSize)
        }
    }

    func conv2dBackwardWeight(input: DeviceBuffer, dOutput: DeviceBuffer, dWeight: DeviceBuffer,
                              geometry g: ConvGeometry) throws {
        try checkColumns(g, "conv2dBackwardWeight")
        let x = reading(input)
        let dy = reading(dOutput)
        let dw = writing(dWeight)
        let plan = ConvPlan(g, columnBudget: columnBudget)
        for first in stride(from: 0, to: g.batch, by: plan.group) {
            let images = min(plan.group, g.batch - first)
            let columns = images * plan.P
            let col = scratch.floats(plan.K * columns, slot: .columns)
            im2col(x + first * plan.imageSize, images: images, g, plan, into: col)
            var dyGroup = UnsafePointer(dy + first * plan.outputImageSize)
            if images > 1 {
                let product = scratch.floats(g.outChannels * columns, slot: .product)
                regroup(fromImages: dyGroup, into: product, images: images, g, plan)
                dyGroup = UnsafePointer(product)
            }
            sgemm(transposeA: false, transposeB: true, m: g.outChannels, n: plan.K, k: columns, alpha: 1,
                  a: dyGroup, lda: columns, b: col, ldb: columns, beta: first == 0 ? 0 : 1, c: dw, ldc: plan.K)
        }
    }

    /// Throws unless one image's column matrix, C·KH·KW × OH·OW, has an element count without overflow (the
    /// contract has checked every other size).
    private func checkColumns(_ g: ConvGeometry, _ kernel: String) throws {
        let (rows, first) = g.inChannels.multipliedReportingOverflow(by: g.kernelHeight * g.kernelWidth)
        let (_, second) = rows.multipliedReportingOverflow(by: g.outHeight * g.outWidth)
        guard !first, !second else { throw invalid(kernel, "the im2col matrix of one image overflows") }
    }
}

/// Sizes derived from a ``ConvGeometry`` once per call.
struct ConvPlan {
    /// Rows of the column matrix: C·KH·KW.
    let K: Int
    /// Output positions per image: OH·OW.
    let P: Int
    let imageSize: Int, outputImageSize: Int
    /// Images per group: as many as fit `columnBudget` floats of columns, at least 1.
    let group: Int

    init(_ g: ConvGeometry, columnBudget: Int) {
        K = g.inChannels * g.kernelHeight * g.kernelWidth
        P = g.outHeight * g.outWidth
        imageSize = g.inChannels * g.inHeight * g.inWidth
        outputImageSize = g.outChannels * P
        group = max(1, min(g.batch, columnBudget / max(K * P, 1)))
    }
}
