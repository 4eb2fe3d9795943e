import CanopyCore

/// Max and average pooling, global average pooling's row means, and their gradients (pool.cl).
extension OpenCLBackend {
    private func poolSizes(_ g: PoolGeometry) -> [CLArgument] {
        [.int(g.inHeight), .int(g.inWidth), .int(g.kernel), .int(g.stride), .int(g.outHeight), .int(g.outWidth)]
    }

    /// The work-group of the max-pool kernels' 1-D launches over rows, the same for every size (PoCL compiles a
    /// kernel once per shape); work-items past the end return at once.
    private var poolRowGroup: [Int] { [tunables.elementwiseGroup] }

    /// One work-item per output row, a 1-D launch.
    func maxPool(input: DeviceBuffer, output: DeviceBuffer, indices: DeviceBuffer, geometry g: PoolGeometry) throws {
        let arguments = try bind(input, output, indices) + poolSizes(g) + [.int(g.batch * g.channels)]
        try launch(CLKernels.maxPool, arguments, global: [g.outHeight * g.batch * g.channels], local: poolRowGroup)
    }

    /// Windows that do not overlap (stride ≥ kernel, the usual 2×2 stride 2) take one work-item per row of
    /// windows, writing its rows of dInput; overlapping ones one work-item per input row, gathering from the
    /// windows of each element.
    func maxPoolBackward(dOutput: DeviceBuffer, indices: DeviceBuffer, dInput: DeviceBuffer, geometry g: PoolGeometry) throws {
        let planes = g.batch * g.channels
        if g.stride >= g.kernel {
            let arguments = try bind(dOutput, indices, dInput)
                + [.int(g.inHeight), .int(g.inWidth), .int(g.stride), .int(g.outHeight), .int(g.outWidth), .int(planes)]
            try launch(CLKernels.maxPoolBackwardCells, arguments, global: [g.outHeight * planes], local: poolRowGroup)
        } else {
            let arguments = try bind(dOutput, indices, dInput) + poolSizes(g) + [.int(planes)]
            try launch(CLKernels.maxPoolBackward, arguments, global: [g.inHeight * planes], local: poolRowGroup)
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
