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
