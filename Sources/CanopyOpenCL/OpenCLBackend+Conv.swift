import CanopyCore

/// 2-D convolution and its gradients (conv.cl, with the products of matmul.cl), in chunks of images whose
/// im2col matrices fit the scratch budget. With G channel groups the forward and input-gradient products are
/// min(G, images) batched matmuls (see ``enqueueGroupedMatmul``), the weight gradient one matmul batched over the
/// groups.
extension OpenCLBackend {
    /// Scratch floats one chunk of im2col may use: 16 Mi floats (64 MiB), or less on small devices.
    var convScratchBudget: Int { max(1, min(16 << 20, device.info.maxAllocationSize / 4 / 2)) }

    /// Images per chunk when each image needs `perImage` scratch floats.
    private func chunk(_ g: ConvGeometry, perImage: Int, _ kernel: String) throws -> Int {
        guard perImage <= convScratchBudget else {
            throw BackendError.invalidArguments(kernel: kernel,
                reason: "one image needs \(perImage) floats of im2col scratch, more than the device allows (\(convScratchBudget))")
        }
        return max(1, min(g.batch, convScratchBudget / perImage))
    }

    /// A 1×1 kernel with stride 1 and no padding: the input image already is its im2col matrix.
    private func isPointwise(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
            && g.padHeight == 0 && g.padWidth == 0
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

    private func geometryArguments(_ g: ConvGeometry, images: Int) -> [CLArgument] {
        [.int(g.inChannels), .int(g.inHeight), .int(g.inWidth), .int(g.kernelHeight), .int(g.kernelWidth),
         .int(g.strideHeight), .int(g.strideWidth), .int(g.padHeight), .int(g.padWidth),
         .int(g.outHeight), .int(g.outWidth), .int(images)]
    }

    /// The chunk's dInput from its dcol (canopy_col2im, or its unit-stride form for strides of 1): one work-item
    /// per input element, a 3-D launch over (w, h, image · C + c).
    private func col2im(_ dcol: CLBuffer, into dx: CLBuffer, offset: Int, _ g: ConvGeometry, images: Int) throws {
        let sizes = [g.inWidth, g.inHeight, images * g.inChannels]
        if g.strideHeight == 1 && g.strideWidth == 1 {
            try launchGrid(CLKernels.col2imUnitStride, [.buffer(dcol), .buffer(dx), .int(offset), .int(g.inChannels),
                                                        .int(g.inHeight), .int(g.inWidth), .int(g.kernelHeight),
                                                        .int(g.kernelWidth), .int(g.padHeight), .int(g.padWidth),
                                                        .int(g.outHeight), .int(g.outWidth), .int(images)], sizes)
        } else {
            try launchGrid(CLKernels.col2im, [.buffer(dcol), .buffer(dx), .int(offset)] + geometryArguments(g, images: images),
                           sizes)
        }
    }

    /// The convolution; with an `epilogue` (bias by filter, activation), applied by the products as they store it.
    func conv2d(input: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer, geometry g: ConvGeometry,
                epilogue: ProductEpilogue? = nil) throws {
        let name = "conv2d"
        let x = try own(input)
        let w = try own(weight)
        let y = try own(output)
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
        let images = try chunk(g, perImage: ckk * p, name)
        let col = try scratchBuffer(ScratchSlot.convColumns, count: images * ckk * p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start)
            try launchGrid(CLKernels.im2col, [.buffer(x), .int(start * imageIn), .buffer(col)] + geometryArguments(g, images: count),
                           [g.outWidth, g.outHeight, count * g.inChannels])
            try enqueueGroupedMatmul(transposeA: false, m: f, n: p, k: groupCKK, images: count, groups: g.groups,
                                     a: GroupedOperand(w, perGroup: f * groupCKK),
                                     b: GroupedOperand(col, perImage: ckk * p, perGroup: groupCKK * p),
                                     c: GroupedOperand(y, base: start * imageOut, perImage: imageOut, perGroup: f * p),
                                     epilogue: epilogue)
        }
    }

    func conv2dBackwardInput(dOutput: DeviceBuffer, weight: DeviceBuffer, dInput: DeviceBuffer,
                             geometry g: ConvGeometry) throws {
        let name = "conv2dBackwardInput"
        let dy = try own(dOutput)
        let w = try own(weight)
        let dx = try own(dInput)
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
        let images = try chunk(g, perImage: ckk * p, name)
        let dcol = try scratchBuffer(ScratchSlot.convColumns, count: images * ckk * p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start)
            try enqueueGroupedMatmul(transposeA: true, m: groupCKK, n: p, k: f, images: count, groups: g.groups,
                                     a: GroupedOperand(w, perGroup: f * groupCKK),
                                     b: GroupedOperand(dy, base: start * imageOut, perImage: imageOut, perGroup: f * p),
                                     c: GroupedOperand(dcol, perImage: ckk * p, perGroup: groupCKK * p))
            try col2im(dcol, into: dx, offset: start * imageIn, g, images: count)
        }
    }

    func conv2dBackwardWeight(input: DeviceBuffer, dOutput: DeviceBuffer, dWeight: DeviceBuffer,
                              geometry g: ConvGeometry) throws {
        let name = "conv2dBackwardWeight"
        let x = try own(input)
        let dy = try own(dOutput)
        let dw = try own(dWeight)
        let ckk = g.inChannels * g.kernelHeight * g.kernelWidth, p = g.outHeight * g.outWidth
        let groupCKK = ckk / g.groups, f = g.groupFilters
        let imageIn = g.inChannels * g.inHeight * g.inWidth, imageOut = g.outChannels * p
        let images = try chunk(g, perImage: (ckk + g.outChannels) * p, name)
        let colT = try scratchBuffer(ScratchSlot.convColumns, count: images * p * ckk)
        let dyT = try scratchBuffer(ScratchSlot.convPermuted, count: images * p * g.outChannels)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start)
            try launchGrid(CLKernels.im2colRows, [.buffer(x), .int(start * imageIn), .buffer(colT)]
                               + geometryArguments(g, images: count) + [.int(g.groups)],
                           [g.outWidth, g.outHeight, count * g.inChannels])
            try launchGrid(CLKernels.nchwToCnhw, [.buffer(dy), .int(start * imageOut), .buffer(dyT), .int(g.outChannels),
                                                  .int(p), .int(count)], [p, g.outChannels, count])
            // dWeight_g (F/G × CKK/G) (+)= dyT_g (F/G × count·P) · colT[g] (count·P × CKK/G), batched over the
            // groups; the first chunk overwrites.
            try enqueueMatmul(transposeA: false, m: f, n: groupCKK, k: count * p, alpha: 1,
                              beta: start == 0 ? 0 : 1, a: MatrixOperand(buffer: dyT, stride: f * count * p),
                              b: MatrixOperand(buffer: colT, stride: count * p * groupCKK),
                              c: MatrixOperand(buffer: dw, stride: f * groupCKK), batch: g.groups)
        }
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
