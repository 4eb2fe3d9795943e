import CanopyCore

/// Softmax, log-softmax, cross-entropy and the masked losses: the kernels of softmax.cl and loss.cl.
extension OpenCLBackend {
    /// A row kernel of softmax.cl taking `(buffers..., rows, cols)`, all buffers [rows, cols].
    func rowKernel(_ kernel: CLKernelSignature, _ buffers: [DeviceBuffer], rows: Int, cols: Int) throws {
        let arguments = try buffers.map { CLArgument.buffer(try own($0)) }
        try launchRows(kernel, arguments + [.int(rows), .int(cols)], rows: rows, rowLength: cols)
    }

    func softmaxCrossEntropy(logits: DeviceBuffer, labels: DeviceBuffer, mask: DeviceBuffer, probs: DeviceBuffer,
                             rowLoss: DeviceBuffer, rows: Int, classes: Int) throws {
        let arguments = try bind(logits, labels, mask, probs, rowLoss) + [.int(rows), .int(classes)]
        try launchRows(CLKernels.softmaxXent, arguments, rows: rows, rowLength: classes)
    }

    func softmaxCrossEntropyBackward(probs: DeviceBuffer, labels: DeviceBuffer, mask: DeviceBuffer,
                                     dRowLoss: DeviceBuffer, dLogits: DeviceBuffer, rows: Int, classes: Int) throws {
        let arguments = try bind(probs, labels, mask, dRowLoss, dLogits) + [.int(rows), .int(classes)]
        try launch(CLKernels.softmaxXentBackward, arguments,
                   global: [rows * classes], local: [tunables.elementwiseGroup])
    }

    /// A forward loss of loss.cl: `(predictions, targets, mask, rowLoss, extra..., rows, cols)`.
    func rowLossKernel(_ kernel: CLKernelSignature, _ predictions: DeviceBuffer, _ targets: DeviceBuffer,
                       _ mask: DeviceBuffer, _ rowLoss: DeviceBuffer, extra: [CLArgument] = [],
                       rows: Int, cols: Int) throws {
        let arguments = try bind(predictions, targets, mask, rowLoss) + extra + [.int(rows), .int(cols)]
        try launchRows(kernel, arguments, rows: rows, rowLength: cols)
    }

    /// A loss gradient of loss.cl: `(predictions, targets, mask, dRowLoss, dPredictions, extra..., rows, cols)`,
    /// element-wise.
    func rowLossBackward(_ kernel: CLKernelSignature, _ predictions: DeviceBuffer, _ targets: DeviceBuffer,
                         _ mask: DeviceBuffer, _ dRowLoss: DeviceBuffer, _ dPredictions: DeviceBuffer,
                         extra: [CLArgument] = [], rows: Int, cols: Int) throws {
        let arguments = try bind(predictions, targets, mask, dRowLoss, dPredictions) + extra + [.int(rows), .int(cols)]
        try launch(kernel, arguments, global: [rows * cols], local: [tunables.elementwiseGroup])
    }

    /// The loss.cl kernels of a regression loss (forward, backward) and their extra argument: mean squared error
    /// has its own pair; L1 and Huber share the robust pair, whose `delta` 0 means L1 (Huber's δ is always > 0).
    static func regressionKernels(_ function: RegressionLoss)
        -> (forward: CLKernelSignature, backward: CLKernelSignature, extra: [CLArgument]) {
        switch function {
        case .meanSquaredError: return (CLKernels.mse, CLKernels.mseBackward, [])
        case .l1: return (CLKernels.robust, CLKernels.robustBackward, [.float(0)])
        case let .huber(delta): return (CLKernels.robust, CLKernels.robustBackward, [.float(delta)])
        }
    }

    func maskedMean(rowLoss: DeviceBuffer, mask: DeviceBuffer, loss: DeviceBuffer, count: DeviceBuffer, rows: Int) throws {
        let arguments = try bind(rowLoss, mask, loss, count) + [.int(rows)]
        let kernel = try self.kernel(CLKernels.maskedMean)
        // One work-group; a small team for few rows, so that short reductions stay cheap.
        let team = kernel.powerOfTwoGroup(atMost: min(tunables.rowTeam, OpenCLBackend.powerOfTwo(atMost: max(1, rows / 8))))
        try launch(CLKernels.maskedMean, arguments, global: [team], local: [team])
    }

    func maskedMeanBackward(dLoss: DeviceBuffer, mask: DeviceBuffer, count: DeviceBuffer, dRowLoss: DeviceBuffer,
                            rows: Int) throws {
        let arguments = try bind(dLoss, mask, count, dRowLoss) + [.int(rows)]
        try launch(CLKernels.maskedMeanBackward, arguments,
                   global: [rows], local: [tunables.elementwiseGroup])
    }
}
