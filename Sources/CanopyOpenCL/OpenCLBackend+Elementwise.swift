import CanopyCore

extension OpenCLBackend {
    /// Enqueues a 1-D element-wise kernel taking `(buffers..., extra..., count)`: the buffers in the order the
    /// kernel declares them (``execute(_:)`` has checked the call's contract).
    func elementwise(_ kernel: CLKernelSignature, _ buffers: [DeviceBuffer], count: Int,
                     extra: [CLArgument] = []) throws {
        let arguments = try buffers.map { CLArgument.buffer(try own($0)) }
        try launch(kernel, arguments + extra + [.int(count)], global: [count], local: [tunables.elementwiseGroup])
    }

    func fill(y: DeviceBuffer, value: Float, count: Int) throws {
        let target = try own(y)
        try launch(CLKernels.fill, [.buffer(target), .float(value), .int(count)],
                   global: [count], local: [tunables.elementwiseGroup])
    }

    /// A grid of [inner, channels, outer] (or [channels, outer] for dense layers, inner = 1), so that no
    /// work-item divides to find its channel. One work-group shape for every size (64 along the contiguous axis;
    /// the grid is rounded up to it and the kernels check their indices), so that a driver that compiles a
    /// kernel per work-group shape, as PoCL does, compiles each once.
    func biasAdd(x: DeviceBuffer, bias: DeviceBuffer, y: DeviceBuffer, outer: Int, channels: Int, inner: Int) throws {
        if inner == 1 {
            try launch(CLKernels.biasAddRows, try bind(x, bias, y) + [.int(outer), .int(channels)],
                       global: [channels, outer], local: [64, 1])
        } else {
            try launch(CLKernels.biasAdd, try bind(x, bias, y) + [.int(outer), .int(channels), .int(inner)],
                       global: [inner, channels, outer], local: [64, 1, 1])
        }
    }

    func biasGradient(dy: DeviceBuffer, dBias: DeviceBuffer, outer: Int, channels: Int, inner: Int) throws {
        let arguments = try bind(dy, dBias) + [.int(outer), .int(channels), .int(inner)]
        try launchRows(CLKernels.biasGradient, arguments, rows: channels, rowLength: inner)
    }

    /// The derivative and the bias gradient in one pass (canopy_unary_backward_bias_gradient), launched as the
    /// bias gradient is; a dense layer's (`inner` 1) on a CPU-style device by blocks of neighbouring channels
    /// (canopy_unary_backward_bias_gradient_columns), since one work-item per channel would stride through memory.
    func unaryBackwardBiasGradient(_ function: UnaryFunction, x: DeviceBuffer, y: DeviceBuffer, dy: DeviceBuffer,
                                   dx: DeviceBuffer, dBias: DeviceBuffer, outer: Int, channels: Int, inner: Int) throws {
        let buffers = try bind(x, y, dy, dx, dBias)
        if inner == 1 && !tunables.gpuStyle {
            let blocks = (channels + Self.columnBlock - 1) / Self.columnBlock
            try launch(CLKernels.unaryBackwardBiasGradientColumns,
                       buffers + [.int(outer), .int(channels), .int(function.clCode)], global: [blocks], local: [8])
            return
        }
        let arguments = buffers + [.int(outer), .int(channels), .int(inner), .int(function.clCode)]
        try launchRows(CLKernels.unaryBackwardBiasGradient, arguments, rows: channels, rowLength: inner)
    }

    /// Channels per work-item of canopy_unary_backward_bias_gradient_columns (`COLUMN_BLOCK` in elementwise.cl).
    static let columnBlock = 8

    func dropout(x: DeviceBuffer, y: DeviceBuffer, mask: DeviceBuffer, probability: Float, seed: UInt32, count: Int,
                 firstIndex: Int) throws {
        // Computed here in Swift, exactly as the CPU backend does, so that masks match bit for bit.
        let keepScale: Float = 1 / (1 - probability)
        try elementwise(CLKernels.dropout, [x, y, mask], count: count,
                        extra: [.float(probability), .float(keepScale), .uint(seed), .uint(UInt32(truncatingIfNeeded: firstIndex))])
    }

    /// Launches a row-team kernel (see common.cl): `rows` rows of `rowLength` elements, one work-item per row
    /// for short rows, a team of a power-of-two lanes per row for long ones (on CPUs only when there are
    /// too few rows to keep the cores busy).
    func launchRows(_ signature: CLKernelSignature, _ arguments: [CLArgument], rows: Int, rowLength: Int) throws {
        let kernel = try self.kernel(signature)
        let limit = kernel.powerOfTwoGroup(atMost: tunables.rowTeam)
        let fewRows = tunables.gpuStyle || rows < 4 * device.info.computeUnits
        let wanted = tunables.gpuStyle ? rowLength : rowLength / 16
        let team = fewRows && rowLength >= tunables.rowTeamThreshold
            ? min(limit, tunables.rowTeamMaximum, OpenCLBackend.powerOfTwo(atMost: wanted)) : 1
        let rowsWanted = tunables.gpuStyle ? max(1, 64 / team)
            : (rows + device.info.computeUnits - 1) / max(device.info.computeUnits, 1)
        let rowsPerGroup = OpenCLBackend.powerOfTwo(atMost: max(1, min(limit / team, rowsWanted)))
        try launch(signature, arguments, global: [team, rows], local: [team, rowsPerGroup])
    }

    /// The largest power of two not above `limit` (1 for limits below 2).
    static func powerOfTwo(atMost limit: Int) -> Int {
        var size = 1
        while size * 2 <= limit { size *= 2 }
        return size
    }
}
