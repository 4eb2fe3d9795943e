import CanopyCore

/// 2-D convolution and its gradients (conv.cl, with the products of matmul.cl), in chunks of images whose
/// im2col matrices fit the scratch budget. With G channel groups the forward and input-gradient products are one
/// matmul per group (batched over the chunk's images), the weight gradient one matmul batched over the groups.
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

    private func geometryArguments(_ g: ConvGeometry, images: Int) -> [CLArgument] {
        [.int(g.inChannels), .int(g.inHeight), .int(g.inWidth), .int(g.kernelHeight), .int(g.kernelWidth),
         .int(g.strideHeight), .int(g.strideWidth), .int(g.padHeight), .int(g.padWidth),
         .int(g.outHeight), .int(g.outWidth), .int(images)]
    }

    func conv2d(input: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer, geometry g: ConvGeometry) throws {
        let name = "conv2d"
        let x = try own(input)
        let w = try own(weight)
        let y = try own(output)
        let ckk = g.inChannels * g.kernelHeight * g.kernelWidth, p = g.outHeight * g.outWidth
        let groupCKK = ckk / g.groups, f = g.groupFilters
        let imageIn = g.inChannels * g.inHeight * g.inWidth, imageOut = g.outChannels * p
        if isPointwise(g) {
            for group in 0..<g.groups {
                try enqueueMatmul(transposeA: false, m: f, n: p, k: groupCKK, alpha: 1, beta: 0,
                                  a: MatrixOperand(buffer: w, offset: group * f * groupCKK),
                                  b: MatrixOperand(buffer: x, offset: group * groupCKK * p, stride: imageIn),
                                  c: MatrixOperand(buffer: y, offset: group * f * p, stride: imageOut), batch: g.batch)
            }
            return
        }
        let images = try chunk(g, perImage: ckk * p, name)
        let col = try scratchBuffer(ScratchSlot.convColumns, count: images * ckk * p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start)
            try launch(CLKernels.im2col, [.buffer(x), .int(start * imageIn), .buffer(col)] + geometryArguments(g, images: count),
                       global: [count * g.inChannels * p], local: [tunables.elementwiseGroup])
            for group in 0..<g.groups {
                try enqueueMatmul(transposeA: false, m: f, n: p, k: groupCKK, alpha: 1, beta: 0,
                                  a: MatrixOperand(buffer: w, offset: group * f * groupCKK),
                                  b: MatrixOperand(buffer: col, offset: group * groupCKK * p, stride: ckk * p),
                                  c: MatrixOperand(buffer: y, offset: start * imageOut + group * f * p, stride: imageOut),
                                  batch: count)
            }
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
            for group in 0..<g.groups {
                try enqueueMatmul(transposeA: true, m: groupCKK, n: p, k: f, alpha: 1, beta: 0,
                                  a: MatrixOperand(buffer: w, offset: group * f * groupCKK),
                                  b: MatrixOperand(buffer: dy, offset: group * f * p, stride: imageOut),
                                  c: MatrixOperand(buffer: dx, offset: group * groupCKK * p, stride: imageIn),
                                  batch: g.batch)
            }
            return
        }
        let images = try chunk(g, perImage: ckk * p, name)
        let dcol = try scratchBuffer(ScratchSlot.convColumns, count: images * ckk * p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start)
            for group in 0..<g.groups {
                try enqueueMatmul(transposeA: true, m: groupCKK, n: p, k: f, alpha: 1, beta: 0,
                                  a: MatrixOperand(buffer: w, offset: group * f * groupCKK),
                                  b: MatrixOperand(buffer: dy, offset: start * imageOut + group * f * p, stride: imageOut),
                                  c: MatrixOperand(buffer: dcol, offset: group * groupCKK * p, stride: ckk * p),
                                  batch: count)
            }
            try launch(CLKernels.col2im, [.buffer(dcol), .buffer(dx), .int(start * imageIn)] + geometryArguments(g, images: count),
                       global: [count * imageIn], local: [tunables.elementwiseGroup])
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
            try launch(CLKernels.im2colRows, [.buffer(x), .int(start * imageIn), .buffer(colT)]
                           + geometryArguments(g, images: count) + [.int(g.groups)],
                       global: [count * g.inChannels * p], local: [tunables.elementwiseGroup])
            try launch(CLKernels.nchwToCnhw, [.buffer(dy), .int(start * imageOut), .buffer(dyT), .int(g.outChannels), .int(p), .int(count)],
                       global: [count * imageOut], local: [tunables.elementwiseGroup])
            // dWeight_g (F/G × CKK/G) (+)= dyT_g (F/G × count·P) · colT[g] (count·P × CKK/G), batched over the
            // groups; the first chunk overwrites.
            try enqueueMatmul(transposeA: false, m: f, n: groupCKK, k: count * p, alpha: 1,
                              beta: start == 0 ? 0 : 1, a: MatrixOperand(buffer: dyT, stride: f * count * p),
                              b: MatrixOperand(buffer: colT, stride: count * p * groupCKK),
                              c: MatrixOperand(buffer: dw, stride: f * groupCKK), batch: g.groups)
        }
    }
}
