import CanopyCore

/// Max pooling and its gradient (pool.cl).
extension OpenCLBackend {
    private func poolSizes(_ g: PoolGeometry) -> [CLArgument] {
        [.int(g.inHeight), .int(g.inWidth), .int(g.kernel), .int(g.stride), .int(g.outHeight), .int(g.outWidth)]
    }

    func maxPool(input: DeviceBuffer, output: DeviceBuffer, indices: DeviceBuffer, geometry g: PoolGeometry) throws {
        let arguments = try bind(input, output, indices) + poolSizes(g) + [.int(g.outputCount)]
        try launch(CLKernels.maxPool, arguments, global: [g.outputCount], local: [tunables.elementwiseGroup])
    }

    func maxPoolBackward(dOutput: DeviceBuffer, indices: DeviceBuffer, dInput: DeviceBuffer, geometry g: PoolGeometry) throws {
        let arguments = try bind(dOutput, indices, dInput) + poolSizes(g) + [.int(g.inputCount)]
        try launch(CLKernels.maxPoolBackward, arguments, global: [g.inputCount],
                   local: [tunables.elementwiseGroup])
    }
}
