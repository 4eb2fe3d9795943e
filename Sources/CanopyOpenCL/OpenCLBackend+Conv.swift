import CanopyCore

/// 2-D convolution and its gradients (conv.cl), in chunks of images whose im2col matrices fit the scratch budget.
/// With the local-memory tiled products (GPUs) every image's columns are a matrix of their own and the products
/// run per image (see ``enqueueGroupedMatmul``); on CPU drivers one `canopy_conv_product` covers a chunk's images
/// and reads and writes the NCHW tensors in place (OpenCLBackend+ConvProduct.swift).
extension OpenCLBackend {
    /// Scratch floats one chunk of im2col may use: 16 Mi floats (64 MiB), or less on small devices.
    var convScratchBudget: Int { max(1, min(16 << 20, device.info.maxAllocationSize / 4 / 2)) }

    /// The work-group of conv.cl's 1-D launches over image rows (im2col, col2im), the same for every size (PoCL
    /// compiles a kernel once per shape); work-items past the end return at once.
    var convGridGroup: [Int] { [tunables.elementwiseGroup] }

    /// Images per chunk when each image needs `perImage` scratch floats.
    func convChunk(_ g: ConvGeometry, perImage: Int, _ kernel: String) throws -> Int {
        guard perImage <= convScratchBudget else {
            throw BackendError.invalidArguments(kernel: kernel,
                reason: "one image needs \(perImage) floats of im2col scratch, more than the device allows (\(convScratchBudget))")
        }
        return max(1, min(g.batch, convScratchBudget / perImage))
    }

    /// A 1×1 kernel with stride 1 and no padding: the input image already is its im2col matrix.
    func isPointwise(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
            && g.padHeight == 0 && g.padWidth == 0
    }

    /// canopy_im2col of `images` images from `offset` in `x` into `col` with `layout`.
    func im2col(_ x: CLBuffer, offset: Int, into col: CLBuffer, _ g: ConvGeometry, images: Int,
                layout l: ColumnLayout) throws {
        try launch(CLKernels.im2col, [.buffer(x), .int(offset), .buffer(col)] + geometryArguments(g, images: images)
                       + [.int(g.groups), .int(l.group), .int(l.image), .int(l.position), .int(l.channel), .int(l.tap)],
                   global: [images * g.inChannels * g.outHeight], local: convGridGroup)
    }

    /// dInput of `images` images from `offset` in `dx`, from their columns `dcol` stored with `layout` (its
    /// `image` stride and its `tap` stride, the distance between rows): canopy_col2im, or its unit-stride form
    /// for strides of 1. One work-item per row of an input channel, a 1-D launch.
    func col2im(_ dcol: CLBuffer, into dx: CLBuffer, offset: Int, _ g: ConvGeometry, images: Int,
                layout l: ColumnLayout) throws {
        let sizes = [images * g.inChannels * g.inHeight]
        if g.strideHeight == 1 && g.strideWidth == 1 {
            try launch(CLKernels.col2imUnitStride, [.buffer(dcol), .buffer(dx), .int(offset), .int(g.inChannels),
                                                    .int(g.inHeight), .int(g.inWidth), .int(g.kernelHeight),
                                                    .int(g.kernelWidth), .int(g.padHeight), .int(g.padWidth),
                                                    .int(g.outHeight), .int(g.outWidth), .int(images),
                                                    .int(l.image), .int(l.tap)],
                       global: sizes, local: convGridGroup)
        } else {
            try launch(CLKernels.col2im, [.buffer(dcol), .buffer(dx), .int(offset)] + geometryArguments(g, images: images)
                           + [.int(l.image), .int(l.tap)], global: sizes, local: convGridGroup)
        }
    }

    private func geometryArguments(_ g: ConvGeometry, images: Int) -> [CLArgument] {
        [.int(g.inChannels), .int(g.inHeight), .int(g.inWidth), .int(g.kernelHeight), .int(g.kernelWidth),
         .int(g.strideHeight), .int(g.strideWidth), .int(g.padHeight), .int(g.padWidth),
         .int(g.outHeight), .int(g.outWidth), .int(images)]
    }

    /// The convolution; with an `epilogue` (bias by filter, activation), applied by the products as they store it.
    func conv2d(input: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer, geometry g: ConvGeometry,
                epilogue: ProductEpilogue? = nil) throws {
        let x = try own(input), w = try own(weight), y = try own(output)
        if try !usesTiledMatmul() { return try productConv2d(x: x, w: w, y: y, g, epilogue: epilogue) }
        let ckk = g.inChannels * g.kernelHeight * g.kernelWidth, p = g.outHeight * g.outWidth
        let groupCKK = ckk / g.groups, f = g.groupFilters
        let imageIn = g.inChannels * g.inHeight * g.inWidth, imageOut = g.outChannels * p
        if isPointwise(g) {
            try enqueueGroupedMatmul(transposeA: false, m: f, n: p, k: groupCKK, images: g.batch, groups: g.groups,
                                     a: GroupedOperand(w, perGroup: f * groupCKK),
                                     b: GroupedOperand(x, perImage: imageIn, perGroup: groupCKK * p),
                                     c: GroupedOperand(y, perImage: imageOut, perGroup: f * p), epilogue: epilogue)
            return
        }
        let images = try convChunk(g, perImage: ckk * p, "conv2d")
        let col = try scratchBuffer(ScratchSlot.convColumns, count: images * ckk * p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start)
            try im2col(x, offset: start * imageIn, into: col, g, images: count, layout: .byImage(g))
            try enqueueGroupedMatmul(transposeA: false, m: f, n: p, k: groupCKK, images: count, groups: g.groups,
                                     a: GroupedOperand(w, perGroup: f * groupCKK),
                                     b: GroupedOperand(col, perImage: ckk * p, perGroup: groupCKK * p),
                                     c: GroupedOperand(y, base: start * imageOut, perImage: imageOut, perGroup: f * p),
                                     epilogue: epilogue)
        }
    }

    func conv2dBackwardInput(dOutput: DeviceBuffer, weight: DeviceBuffer, dInput: DeviceBuffer,
                             geometry g: ConvGeometry) throws {
        let dy = try own(dOutput), w = try own(weight), dx = try own(dInput)
        if try !usesTiledMatmul() { return try productConv2dBackwardInput(dy: dy, w: w, dx: dx, g) }
        let ckk = g.inChannels * g.kernelHeight * g.kernelWidth, p = g.outHeight * g.outWidth
        let groupCKK = ckk / g.groups, f = g.groupFilters
        let imageIn = g.inChannels * g.inHeight * g.inWidth, imageOut = g.outChannels * p
        // dcol_g = weight_gᵀ (CKK/G × F/G) · dOutput_g (F/G × P): weight is stored F × CKK/G, the "tn" kernel's A.
        if isPointwise(g) {
            try enqueueGroupedMatmul(transposeA: true, m: groupCKK, n: p, k: f, images: g.batch, groups: g.groups,
                                     a: GroupedOperand(w, perGroup: f * groupCKK),
                                     b: GroupedOperand(dy, perImage: imageOut, perGroup: f * p),
                                     c: GroupedOperand(dx, perImage: imageIn, perGroup: groupCKK * p))
            return
        }
        let images = try convChunk(g, perImage: ckk * p, "conv2dBackwardInput")
        let dcol = try scratchBuffer(ScratchSlot.convColumns, count: images * ckk * p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start)
            try enqueueGroupedMatmul(transposeA: true, m: groupCKK, n: p, k: f, images: count, groups: g.groups,
                                     a: GroupedOperand(w, perGroup: f * groupCKK),
                                     b: GroupedOperand(dy, base: start * imageOut, perImage: imageOut, perGroup: f * p),
                                     c: GroupedOperand(dcol, perImage: ckk * p, perGroup: groupCKK * p))
            try col2im(dcol, into: dx, offset: start * imageIn, g, images: count, layout: .byImage(g))
        }
    }

    func conv2dBackwardWeight(input: DeviceBuffer, dOutput: DeviceBuffer, dWeight: DeviceBuffer,
                              geometry g: ConvGeometry) throws {
        let x = try own(input), dy = try own(dOutput), dw = try own(dWeight)
        if try !usesTiledMatmul() { return try productConv2dBackwardWeight(x: x, dy: dy, dw: dw, g) }
        let ckk = g.inChannels * g.kernelHeight * g.kernelWidth, p = g.outHeight * g.outWidth
        let groupCKK = ckk / g.groups, f = g.groupFilters
        let imageIn = g.inChannels * g.inHeight * g.inWidth, imageOut = g.outChannels * p
        let images = try convChunk(g, perImage: ckk * p, "conv2dBackwardWeight")
        let col = try scratchBuffer(ScratchSlot.convColumns, count: images * ckk * p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start)
            try im2col(x, offset: start * imageIn, into: col, g, images: count, layout: .byImage(g))
            // dWeight_g (F/G × CKK/G) (+)= dOutput_g[b] (F/G × P) · col_g[b]ᵀ (P × CKK/G), image by image (the
            // tiled kernels read a transposed B in place); the first image overwrites.
            for image in 0..<count {
                try enqueueTiledMatmul(transposeA: false, transposeB: true, m: f, n: groupCKK, k: p, alpha: 1,
                                       beta: start + image == 0 ? 0 : 1,
                                       a: MatrixOperand(buffer: dy, offset: (start + image) * imageOut, stride: f * p),
                                       b: MatrixOperand(buffer: col, offset: image * ckk * p, stride: groupCKK * p),
                                       c: MatrixOperand(buffer: dw, stride: f * groupCKK), batch: g.groups)
            }
        }
    }

    /// The products `C[i, g] = op(A[i, g]) · B[i, g]` (beta 0) for every image i < `images` and group g < `groups`,
    /// each operand at `base + i·perImage + g·perGroup`: one launch per group batched over the images, or one per
    /// image batched over the groups, whichever needs fewer launches (a depthwise layer has many groups). An
    /// `epilogue` takes group g's bias at `bias[g·m ..< (g+1)·m]`, by row of C.
    private func enqueueGroupedMatmul(transposeA: Bool, m: Int, n: Int, k: Int, images: Int, groups: Int,
                                      a: GroupedOperand, b: GroupedOperand, c: GroupedOperand,
                                      epilogue: ProductEpilogue? = nil) throws {
        let byGroup = groups <= images
        for outer in 0..<(byGroup ? groups : images) {
            var rowBias = epilogue
            rowBias?.byRow = true
            rowBias?.offset = byGroup ? outer * m : 0
            rowBias?.stride = byGroup ? 0 : m
            func matrix(_ o: GroupedOperand) -> MatrixOperand {
                byGroup ? MatrixOperand(buffer: o.buffer, offset: o.base + outer * o.perGroup, stride: o.perImage)
                        : MatrixOperand(buffer: o.buffer, offset: o.base + outer * o.perImage, stride: o.perGroup)
            }
            try enqueueMatmul(transposeA: transposeA, m: m, n: n, k: k, alpha: 1, beta: 0, a: matrix(a), b: matrix(b),
                              c: matrix(c), batch: byGroup ? images : groups, epilogue: rowBias)
        }
    }
}

/// Where canopy_im2col puts entry (kh, kw) of channel c' of group g for output position p of image b:
/// at `g·group + b·image + p·position + c'·channel + (kh·KW + kw)·tap`.
struct ColumnLayout {
    var group: Int, image: Int, position: Int, channel: Int, tap: Int

    /// Each image's columns a CKK × P matrix of their own (group g's rows a block of CKK/G).
    static func byImage(_ g: ConvGeometry) -> ColumnLayout {
        let kk = g.kernelHeight * g.kernelWidth, p = g.outHeight * g.outWidth
        return ColumnLayout(group: g.groupChannels * kk * p, image: g.inChannels * kk * p, position: 1,
                            channel: kk * p, tap: p)
    }

    /// The chunk's columns one CKK × images·P matrix, image b's at columns b·P ..< (b+1)·P.
    static func oneMatrix(_ g: ConvGeometry, images: Int) -> ColumnLayout {
        let kk = g.kernelHeight * g.kernelWidth, n = images * g.outHeight * g.outWidth
        return ColumnLayout(group: g.groupChannels * kk * n, image: g.outHeight * g.outWidth, position: 1,
                            channel: kk * n, tap: n)
    }

    /// Group g's columns transposed, an images·P × CKK/G matrix (one row per output position).
    static func transposedByGroup(_ g: ConvGeometry, images: Int) -> ColumnLayout {
        let kk = g.kernelHeight * g.kernelWidth, p = g.outHeight * g.outWidth, groupCKK = g.groupChannels * kk
        return ColumnLayout(group: images * p * groupCKK, image: p * groupCKK, position: groupCKK, channel: kk, tap: 1)
    }
}

/// A matrix operand of ``OpenCLBackend/enqueueGroupedMatmul``: image i's group g starts at
/// `base + i·perImage + g·perGroup` (a weight shared by the images has perImage 0).
private struct GroupedOperand {
    var buffer: CLBuffer, base: Int, perImage: Int, perGroup: Int

    init(_ buffer: CLBuffer, base: Int = 0, perImage: Int = 0, perGroup: Int) {
        self.buffer = buffer; self.base = base; self.perImage = perImage; self.perGroup = perGroup
    }
}
