import CanopyCore

/// Layer normalization: the kernels of norm.cl, launched as row teams sized by the device's work-group limits.
extension OpenCLBackend {
    func layerNorm(x: DeviceBuffer, gamma: DeviceBuffer, y: DeviceBuffer, normalized: DeviceBuffer, rstd: DeviceBuffer,
                   rows: Int, cols: Int, eps: Float) throws {
        let arguments = try bind(x, gamma, y, normalized, rstd) + [.int(rows), .int(cols), .float(eps)]
        try launchRows(CLKernels.layerNorm, arguments, rows: rows, rowLength: cols)
    }

    func layerNormBackward(normalized: DeviceBuffer, rstd: DeviceBuffer, gamma: DeviceBuffer, dy: DeviceBuffer,
                           dx: DeviceBuffer, rows: Int, cols: Int) throws {
        let arguments = try bind(normalized, rstd, gamma, dy, dx) + [.int(rows), .int(cols)]
        try launchRows(CLKernels.layerNormBackward, arguments, rows: rows, rowLength: cols)
    }
}

/// Batch normalization: the kernels of norm.cl, the per-channel ones launched as row teams (one team per channel)
/// sized by the device's work-group limits.
extension OpenCLBackend {
    func batchNorm(x: DeviceBuffer, rowMask: DeviceBuffer, gamma: DeviceBuffer, y: DeviceBuffer,
                   normalized: DeviceBuffer, mean: DeviceBuffer, variance: DeviceBuffer, rstd: DeviceBuffer,
                   outer: Int, channels: Int, inner: Int, eps: Float) throws {
        let arguments = try bind(x, rowMask, gamma, y, normalized, mean, variance, rstd)
            + [.int(outer), .int(channels), .int(inner), .float(eps)]
        try launchRows(CLKernels.batchNorm, arguments, rows: channels, rowLength: outer * inner)
    }

    func batchNormRunningUpdate(mean: DeviceBuffer, variance: DeviceBuffer, runningMean: DeviceBuffer,
                                runningVariance: DeviceBuffer, channels: Int, momentum: Float) throws {
        let arguments = try bind(mean, variance, runningMean, runningVariance) + [.int(channels), .float(momentum)]
        try launch(CLKernels.batchNormRunningUpdate, arguments, global: [channels], local: [tunables.elementwiseGroup])
    }

    func batchNormInference(x: DeviceBuffer, gamma: DeviceBuffer, runningMean: DeviceBuffer,
                            runningVariance: DeviceBuffer, y: DeviceBuffer, outer: Int, channels: Int, inner: Int,
                            eps: Float) throws {
        let arguments = try bind(x, gamma, runningMean, runningVariance, y)
            + [.int(outer), .int(channels), .int(inner), .float(eps)]
        try launch(CLKernels.batchNormInference, arguments, global: [outer * channels * inner],
                   local: [tunables.elementwiseGroup])
    }

    func batchNormBackward(normalized: DeviceBuffer, rstd: DeviceBuffer, gamma: DeviceBuffer, dy: DeviceBuffer,
                           rowMask: DeviceBuffer, dx: DeviceBuffer, outer: Int, channels: Int, inner: Int) throws {
        let arguments = try bind(normalized, rstd, gamma, dy, rowMask, dx) + [.int(outer), .int(channels), .int(inner)]
        try launchRows(CLKernels.batchNormBackward, arguments, rows: channels, rowLength: outer * inner)
    }
}
