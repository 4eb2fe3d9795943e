import CanopyCore

/// Max pooling and its gradient (pool.cl).
extension OpenCLBackend {
    func validate(_ g: PoolGeometry, _ kernel: String) throws {
        try requirePositive(kernel, ["batch": g.batch, "channels": g.channels, "inHeight": g.inHeight,
                                     "inWidth": g.inWidth, "kernel": g.kernel, "stride": g.stride])
        guard g.kernel <= g.inHeight, g.kernel <= g.inWidth else {
            throw BackendError.invalidArguments(kernel: kernel,
                reason: "window \(g.kernel) is larger than the \(g.inHeight)×\(g.inWidth) input")
        }
    }

    private func poolSizes(_ g: PoolGeometry) -> [CLArgument] {
        [.int(g.inHeight), .int(g.inWidth), .int(g.kernel), .int(g.stride), .int(g.outHeight), .int(g.outWidth)]
    }

    func maxPool(input: DeviceBuffer, output: DeviceBuffer, indices: DeviceBuffer, geometry g: PoolGeometry) throws {
        let name = "maxPool"
        try validate(g, name)
        let arguments: [CLArgument] = [
            .buffer(try own(input, "input", atLeast: g.inputCount, name)),
            .buffer(try own(output, "output", atLeast: g.outputCount, name)),
            .buffer(try own(indices, "indices", atLeast: g.outputCount, name)),
        ] + poolSizes(g) + [.int(g.outputCount)]
        try launch("canopy_max_pool", file: "pool.cl", arguments, global: [g.outputCount], local: [tunables.elementwiseGroup])
    }

    func maxPoolBackward(dOutput: DeviceBuffer, indices: DeviceBuffer, dInput: DeviceBuffer, geometry g: PoolGeometry) throws {
        let name = "maxPoolBackward"
        try validate(g, name)
        let arguments: [CLArgument] = [
            .buffer(try own(dOutput, "dOutput", atLeast: g.outputCount, name)),
            .buffer(try own(indices, "indices", atLeast: g.outputCount, name)),
            .buffer(try own(dInput, "dInput", atLeast: g.inputCount, name)),
        ] + poolSizes(g) + [.int(g.inputCount)]
        try launch("canopy_max_pool_backward", file: "pool.cl", arguments, global: [g.inputCount],
                   local: [tunables.elementwiseGroup])
    }
}
