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
    func conv2d(input: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer, geometry g: ConvGeometry,
                _ args: inout KernelArguments) throws {
        try check(g, args)
        let x = try args.input(input, "input", count: g.inputCount)
        let w = try args.input(weight, "weight", count: g.weightCount)
        let y = try args.output(output, "output", count: g.outputCount)
        try args.checkAliasing()
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
                             geometry g: ConvGeometry, _ args: inout KernelArguments) throws {
        try check(g, args)
        let dy = try args.input(dOutput, "dOutput", count: g.outputCount)
        let w = try args.input(weight, "weight", count: g.weightCount)
        let dx = try args.output(dInput, "dInput", count: g.inputCount)
        try args.checkAliasing()
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
                              geometry g: ConvGeometry, _ args: inout KernelArguments) throws {
        try check(g, args)
        let x = try args.input(input, "input", count: g.inputCount)
        let dy = try args.input(dOutput, "dOutput", count: g.outputCount)
        let dw = try args.output(dWeight, "dWeight", count: g.weightCount)
        try args.checkAliasing()
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

    private func check(_ g: ConvGeometry, _ args: KernelArguments) throws {
        for (value, role) in [(g.batch, "batch"), (g.inChannels, "inChannels"), (g.inHeight, "inHeight"),
                              (g.inWidth, "inWidth"), (g.outChannels, "outChannels"),
                              (g.kernelHeight, "kernelHeight"), (g.kernelWidth, "kernelWidth"),
                              (g.strideHeight, "strideHeight"), (g.strideWidth, "strideWidth")] {
            try args.size(value, role)
        }
        try args.size(g.padHeight, "padHeight", atLeast: 0)
        try args.size(g.padWidth, "padWidth", atLeast: 0)
        guard g.inHeight + 2 * g.padHeight >= g.kernelHeight, g.inWidth + 2 * g.padWidth >= g.kernelWidth else {
            throw args.invalid("a \(g.kernelHeight)×\(g.kernelWidth) kernel does not fit the padded "
                + "\(g.inHeight)×\(g.inWidth) input (padding \(g.padHeight), \(g.padWidth))")
        }
        _ = try args.product(g.batch, g.inChannels, g.inHeight, g.inWidth)
        _ = try args.product(g.batch, g.outChannels, g.outHeight, g.outWidth)
        _ = try args.product(g.inChannels, g.kernelHeight, g.kernelWidth, g.outHeight, g.outWidth)
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
