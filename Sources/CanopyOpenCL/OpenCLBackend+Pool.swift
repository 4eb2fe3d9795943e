import CanopyCore

/// Max and average pooling, global average pooling's row means, and their gradients (pool.cl).
extension OpenCLBackend {
    private func poolSizes(_ g: PoolGeometry) -> [CLArgument] {
        [.int(g.inHeight), .int(g.inWidth), .int(g.kernel), .int(g.stride), .int(g.outHeight), .int(g.outWidth)]
    }

    /// One work-item per output element, a 3-D launch over (ow, oh, plane).
    func maxPool(input: DeviceBuffer, output: DeviceBuffer, indices: DeviceBuffer, geometry g: PoolGeometry) throws {
        let arguments = try bind(input, output, indices) + poolSizes(g) + [.int(g.batch * g.channels)]
        try launchGrid(CLKernels.maxPool, arguments, [g.outWidth, g.outHeight, g.batch * g.channels])
    }

    /// Windows that do not overlap (stride ≥ kernel, the usual 2×2 stride 2) take one work-item per window,
    /// writing its cell of dInput; overlapping ones one work-item per input element, gathering from its windows.
    func maxPoolBackward(dOutput: DeviceBuffer, indices: DeviceBuffer, dInput: DeviceBuffer, geometry g: PoolGeometry) throws {
        let planes = g.batch * g.channels
        if g.stride >= g.kernel {
            let arguments = try bind(dOutput, indices, dInput)
                + [.int(g.inHeight), .int(g.inWidth), .int(g.stride), .int(g.outHeight), .int(g.outWidth), .int(planes)]
            try launchGrid(CLKernels.maxPoolBackwardCells, arguments, [g.outWidth, g.outHeight, planes])
        } else {
            let arguments = try bind(dOutput, indices, dInput) + poolSizes(g) + [.int(planes)]
            try launchGrid(CLKernels.maxPoolBackward, arguments, [g.inWidth, g.inHeight, planes])
        }
    }

    func avgPool(input: DeviceBuffer, output: DeviceBuffer, geometry g: PoolGeometry) throws {
        let arguments = try bind(input, output) + [.float(1 / Float(g.kernel * g.kernel))] + poolSizes(g)
            + [.int(g.outputCount)]
        try launch(CLKernels.avgPool, arguments, global: [g.outputCount], local: [tunables.elementwiseGroup])
    }

    func avgPoolBackward(dOutput: DeviceBuffer, dInput: DeviceBuffer, geometry g: PoolGeometry) throws {
        let arguments = try bind(dOutput, dInput) + [.float(1 / Float(g.kernel * g.kernel))] + poolSizes(g)
            + [.int(g.inputCount)]
        try launch(CLKernels.avgPoolBackward, arguments, global: [g.inputCount], local: [tunables.elementwiseGroup])
    }

    /// Global average pooling's row means, a row-team launch (see ``launchRows(_:_:rows:rowLength:)``).
    func rowMean(x: DeviceBuffer, y: DeviceBuffer, rows: Int, cols: Int) throws {
        let arguments = try bind(x, y) + [.float(1 / Float(cols)), .int(rows), .int(cols)]
        try launchRows(CLKernels.rowMean, arguments, rows: rows, rowLength: cols)
    }

    func rowMeanBackward(dy: DeviceBuffer, dx: DeviceBuffer, rows: Int, cols: Int) throws {
        try elementwise(CLKernels.rowMeanBackward, [dy, dx], count: rows * cols,
                        extra: [.float(1 / Float(cols)), .int(cols)])
    }
}
