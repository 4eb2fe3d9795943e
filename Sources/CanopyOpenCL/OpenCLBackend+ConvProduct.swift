import CanopyCore

/// The convolution passes on CPU drivers (the register-blocked products; conv.cl explains the kernels).
///
/// Stride 1 with a padding that keeps the size (3×3 pad 1, 1×1 pad 0, ...) and at least ``convSameRows`` rows per
/// group: the forward and the input gradient are one `canopy_conv_same` over the batch, with no columns at all.
/// Otherwise one `canopy_conv_product` per chunk of images, reading and writing the NCHW tensors in place:
///
///     forward          im2col (one CKK × images·P matrix);  output_g = weight_g · col_g, stored NCHW
///     backward input   dcol_g = weight_gᵀ · dOutput_g (read NCHW);  dInput = col2im(dcol)
///     backward weight  im2col (images·P × CKK/G per group);  dWeight_g (+)= dOutput_g (read NCHW) · colT_g
///
/// The weight gradient always takes the last form, in chunks that fit a core's cache.
extension OpenCLBackend {
    /// The work-group of canopy_conv_product, the same for every size (PoCL compiles a kernel once per shape).
    static let convProductGroup = (x: 4, y: 4)

    /// Floats of the weight gradient's operands one chunk may use: 1 MiB, about a CPU core's L2 cache.
    static let convCacheFloats = 1 << 18

    func productConv2d(x: CLBuffer, w: CLBuffer, y: CLBuffer, _ g: ConvGeometry, epilogue: ProductEpilogue?) throws {
        let s = ConvSizes(g)
        let kk = g.kernelHeight * g.kernelWidth
        if isSame(g) && s.f >= OpenCLBackend.convSameRows {
            return try convSame(g, filters: s.f, channels: g.groupChannels, x: x, xImage: s.imageIn,
                                weight: SameWeight(buffer: w, offset: 0, group: s.f * s.groupCKK, row: s.groupCKK,
                                                   channel: kk, kh: g.kernelWidth, kw: 1),
                                y: y, yImage: s.imageOut, epilogue: epilogue)
        }
        let weight = ConvOperand(buffer: w, group: s.f * s.groupCKK, row: s.groupCKK)
        let images = try convChunk(g, perImage: s.ckk * s.p, "conv2d")
        let col = try scratchBuffer(ScratchSlot.convColumns, count: images * s.ckk * s.p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start), n = count * s.p
            try im2col(x, offset: start * s.imageIn, into: col, g, images: count, layout: .oneMatrix(g, images: count))
            try convProduct(m: s.f, n: n, k: s.groupCKK, a: weight,
                            b: ConvOperand(buffer: col, group: s.groupCKK * n, row: n, period: n),
                            c: ConvOperand(buffer: y, offset: start * s.imageOut, group: s.f * s.p, row: s.p,
                                           period: s.p, image: g.outChannels * s.p),
                            groups: g.groups, epilogue: epilogue)
        }
    }

    func productConv2dBackwardInput(dy: CLBuffer, w: CLBuffer, dx: CLBuffer, _ g: ConvGeometry) throws {
        let s = ConvSizes(g)
        let kk = g.kernelHeight * g.kernelWidth
        if isSame(g) && g.groupChannels >= OpenCLBackend.convSameRows {
            // dInput = dOutput convolved with the weight, filters and channels swapped and taps flipped: tap
            // (kh, kw) of channel c's row for filter f is weight[f, c, KH−1−kh, KW−1−kw].
            return try convSame(g, filters: g.groupChannels, channels: s.f, x: dy, xImage: s.imageOut,
                                weight: SameWeight(buffer: w, offset: kk - 1, group: s.f * s.groupCKK, row: kk,
                                                   channel: s.groupCKK, kh: -g.kernelWidth, kw: -1),
                                y: dx, yImage: s.imageIn, epilogue: nil)
        }
        // op(A) = weight_gᵀ: element (ckk, f) at f · CKK/G + ckk.
        let weightT = ConvOperand(buffer: w, group: s.f * s.groupCKK, row: 1, step: s.groupCKK)
        let images = try convChunk(g, perImage: s.ckk * s.p, "conv2dBackwardInput")
        let dcol = try scratchBuffer(ScratchSlot.convColumns, count: images * s.ckk * s.p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start), n = count * s.p
            try convProduct(m: s.groupCKK, n: n, k: s.f, a: weightT,
                            b: ConvOperand(buffer: dy, offset: start * s.imageOut, group: s.f * s.p, row: s.p,
                                           period: s.p, image: g.outChannels * s.p),
                            c: ConvOperand(buffer: dcol, group: s.groupCKK * n, row: n, period: n), groups: g.groups)
            try col2im(dcol, into: dx, offset: start * s.imageIn, g, images: count, layout: .oneMatrix(g, images: count))
        }
    }

    /// The fewest rows per group (filters, or input channels for the input gradient) for canopy_conv_same: its
    /// work-items compute 8 rows, so with fewer than half of them most of its arithmetic would be wasted (a
    /// depthwise layer, a first layer's input gradient) and the columns path is faster.
    static let convSameRows = 4

    /// Stride 1 and a padding that keeps the image's size (a 1×1 kernel without padding is one): canopy_conv_same.
    func isSame(_ g: ConvGeometry) -> Bool {
        g.strideHeight == 1 && g.strideWidth == 1 && g.kernelHeight == 2 * g.padHeight + 1
            && g.kernelWidth == 2 * g.padWidth + 1
    }

    /// One canopy_conv_same over the whole batch: `filters` rows per group from `channels` channels per group of
    /// `x` (images `xImage` floats apart) into `y` (`yImage` apart).
    private func convSame(_ g: ConvGeometry, filters: Int, channels: Int, x: CLBuffer, xImage: Int,
                          weight: SameWeight, y: CLBuffer, yImage: Int, epilogue: ProductEpilogue?) throws {
        let p = g.inHeight * g.inWidth, blocks = (p + 15) / 16
        let arguments: [CLArgument] = [
            .int(filters), .int(channels), .int(g.inHeight), .int(g.inWidth), .int(g.kernelHeight), .int(g.kernelWidth),
            .int(g.batch),
            .buffer(x), .int(0), .int(xImage), .int(g.batch * xImage),
            .buffer(weight.buffer), .int(weight.offset), .int(weight.group), .int(weight.row), .int(weight.channel),
            .int(weight.kh), .int(weight.kw),
            .buffer(y), .int(0), .int(yImage),
            .buffer(epilogue?.bias ?? y), .int(epilogue.map { $0.activation?.clCode ?? 0 } ?? -1),
        ]
        let group = OpenCLBackend.convProductGroup
        try launch(CLKernels.convSame, arguments, global: [g.batch * blocks, (filters + 7) / 8, g.groups],
                   local: [group.x, group.y, 1])
    }

    func productConv2dBackwardWeight(x: CLBuffer, dy: CLBuffer, dw: CLBuffer, _ g: ConvGeometry) throws {
        let s = ConvSizes(g)
        // Chunks whose columns and dOutput fit a core's cache (the product reads them while im2col's writes are
        // still there; one long product over the batch streams them from memory once per block of 8 filters).
        let fit = max(1, OpenCLBackend.convCacheFloats / ((s.ckk + s.f) * s.p))
        let images = min(fit, try convChunk(g, perImage: s.ckk * s.p, "conv2dBackwardWeight"))
        let colT = try scratchBuffer(ScratchSlot.convColumns, count: images * s.ckk * s.p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start), n = count * s.p
            try im2col(x, offset: start * s.imageIn, into: colT, g, images: count,
                       layout: .transposedByGroup(g, images: count))
            // A = dOutput_g along k: element (f, b·P + p) at b · F·P + f · P + p.
            let dOutput = ConvOperand(buffer: dy, offset: start * s.imageOut, group: s.f * s.p, row: s.p, step: 1,
                                      period: s.p, image: g.outChannels * s.p)
            try convProduct(m: s.f, n: s.groupCKK, k: n, a: dOutput,
                            b: ConvOperand(buffer: colT, group: n * s.groupCKK, row: s.groupCKK, period: s.groupCKK),
                            c: ConvOperand(buffer: dw, group: s.f * s.groupCKK, row: s.groupCKK, period: s.groupCKK),
                            groups: g.groups, accumulate: start > 0)
        }
    }

    /// One canopy_conv_product: `C_g (+)= A_g · B_g` for every group g, then `epilogue` (bias by row of C).
    func convProduct(m: Int, n: Int, k: Int, a: ConvOperand, b: ConvOperand, c: ConvOperand, groups: Int,
                             accumulate: Bool = false, epilogue: ProductEpilogue? = nil) throws {
        // A's period along k: a plain A (period 0) is one period of k.
        let aPeriod = a.period > 0 ? a.period : k
        let arguments: [CLArgument] = [
            .int(m), .int(n), .int(k),
            .buffer(a.buffer), .int(a.offset), .int(a.group), .int(a.row), .int(a.step), .int(aPeriod), .int(a.image),
            .buffer(b.buffer), .int(b.offset), .int(b.group), .int(b.row), .int(b.period > 0 ? b.period : n), .int(b.image),
            .buffer(c.buffer), .int(c.offset), .int(c.group), .int(c.row), .int(c.period > 0 ? c.period : n), .int(c.image),
            .int(accumulate ? 1 : 0),
            .buffer(epilogue?.bias ?? c.buffer), .int(epilogue == nil ? 0 : m),
            .int(epilogue.map { $0.activation?.clCode ?? 0 } ?? -1),
        ]
        let group = OpenCLBackend.convProductGroup
        try launch(CLKernels.convProduct, arguments, global: [(n + 15) / 16, (m + 7) / 8, groups],
                   local: [group.x, group.y, 1])
    }
}

/// The sizes the passes share: CKK, P, per-group CKK and filters, and the floats of one image in and out.
private struct ConvSizes {
    let ckk: Int, p: Int, groupCKK: Int, f: Int, imageIn: Int, imageOut: Int

    init(_ g: ConvGeometry) {
        ckk = g.inChannels * g.kernelHeight * g.kernelWidth
        p = g.outHeight * g.outWidth
        groupCKK = ckk / g.groups
        f = g.groupFilters
        imageIn = g.inChannels * g.inHeight * g.inWidth
        imageOut = g.outChannels * p
    }
}

/// canopy_conv_same's weight: row i, channel ch and tap (kh, kw) of group g at
/// `offset + g·group + i·row + ch·channel + kh·self.kh + kw·self.kw`.
private struct SameWeight {
    var buffer: CLBuffer
    var offset: Int, group: Int, row: Int, channel: Int, kh: Int, kw: Int
}

/// An operand of canopy_conv_product (conv.cl): group g's element at `offset + g·group`, then by row `row`; along
/// the other index q (k for A, with `step`; a column for B and C, step 1) at `(q / period)·image + q % period`.
/// A period of 0 means the whole dimension (a plain matrix).
struct ConvOperand {
    var buffer: CLBuffer
    var offset = 0, group: Int, row: Int, step = 1, period = 0, image = 0
}
