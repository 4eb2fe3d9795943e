import CanopyCore

/// 2-D convolution and its gradients (conv.cl, with the products of matmul.cl), in chunks of images whose
/// im2col matrices fit the scratch budget.
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
        let imageIn = g.inChannels * g.inHeight * g.inWidth, imageOut = g.outChannels * p
        if isPointwise(g) {
            try enqueueMatmul(transposeA: false, m: g.outChannels, n: p, k: ckk, alpha: 1, beta: 0,
                              a: MatrixOperand(buffer: w), b: MatrixOperand(buffer: x, stride: imageIn),
                              c: MatrixOperand(buffer: y, stride: imageOut), batch: g.batch)
            return
        }
        let images = try chunk(g, perImage: ckk * p, name)
        let col = try scratchBuffer(ScratchSlot.convColumns, count: images * ckk * p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start)
            try launch(CLKernels.im2col, [.buffer(x), .int(start * imageIn), .buffer(col)] + geometryArguments(g, images: count),
                       global: [count * g.inChannels * p], local: [tunables.elementwiseGroup])
            try enqueueMatmul(transposeA: false, m: g.outChannels, n: p, k: ckk, alpha: 1, beta: 0,
                              a: MatrixOperand(buffer: w), b: MatrixOperand(buffer: col, stride: ckk * p),
                              c: MatrixOperand(buffer: y, offset: start * imageOut, stride: imageOut), batch: count)
        }
    }

    func conv2dBackwardInput(dOutput: DeviceBuffer, weight: DeviceBuffer, dInput: DeviceBuffer,
                             geometry g: ConvGeometry) throws {
        let name = "conv2dBackwardInput"
        let dy = try own(dOutput)
        let w = try own(weight)
        let dx = try own(dInput)
        let ckk = g.inChannels * g.kernelHeight * g.kernelWidth, p = g.outHeight * g.outWidth
        let imageIn = g.inChannels * g.inHeight * g.inWidth, imageOut = g.outChannels * p
        // dcol = weightᵀ (CKK × F) · dOutput (F × P): weight is stored F × CKK, the "tn" kernel's A.
        if isPointwise(g) {
            try enqueueMatmul(transposeA: true, m: ckk, n: p, k: g.outChannels, alpha: 1, beta: 0,
                              a: MatrixOperand(buffer: w), b: MatrixOperand(buffer: dy, stride: imageOut),
                              c: MatrixOperand(buffer: dx, stride: imageIn), batch: g.batch)
            return
        }
        let images = try chunk(g, perImage: ckk * p, name)
        let dcol = try scratchBuffer(ScratchSlot.convColumns, count: images * ckk * p)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start)
            try enqueueMatmul(transposeA: true, m: ckk, n: p, k: g.outChannels, alpha: 1, beta: 0,
                              a: MatrixOperand(buffer: w),
                              b: MatrixOperand(buffer: dy, offset: start * imageOut, stride: imageOut),
                              c: MatrixOperand(buffer: dcol, stride: ckk * p), batch: count)
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
        let imageIn = g.inChannels * g.inHeight * g.inWidth, imageOut = g.outChannels * p
        let images = try chunk(g, perImage: (ckk + g.outChannels) * p, name)
        let colT = try scratchBuffer(ScratchSlot.convColumns, count: images * p * ckk)
        let dyT = try scratchBuffer(ScratchSlot.convPermuted, count: images * p * g.outChannels)
        for start in stride(from: 0, to: g.batch, by: images) {
            let count = min(images, g.batch - start)
            try launch(CLKernels.im2colRows, [.buffer(x), .int(start * imageIn), .buffer(colT)] + geometryArguments(g, images: count),
                       global: [count * g.inChannels * p], local: [tunables.elementwiseGroup])
            try launch(CLKernels.nchwToCnhw, [.buffer(dy), .int(start * imageOut), .buffer(dyT), .int(g.outChannels), .int(p), .int(count)],
                       global: [count * imageOut], local: [tunables.elementwiseGroup])
            // dWeight (F × CKK) (+)= dyT (F × count·P) · colT (count·P × CKK); the first chunk overwrites.
            try enqueueMatmul(transposeA: false, m: g.outChannels, n: ckk, k: count * p, alpha: 1,
                              beta: start == 0 ? 0 : 1, a: MatrixOperand(buffer: dyT), b: MatrixOperand(buffer: colT),
                              c: MatrixOperand(buffer: dw))
        }
    }
}
