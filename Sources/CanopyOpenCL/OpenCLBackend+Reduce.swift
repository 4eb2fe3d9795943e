import CanopyCore
import Foundation

/// Reductions (reduce.cl), optimizer updates (optimizer.cl) and max pooling (pool.cl).
extension OpenCLBackend {
    /// Scratch slots, so that one operation's temporaries never overwrite another's still in use.
    enum ScratchSlot {
        static let transpose = 0, convColumns = 1, convPermuted = 2, reducePartials = 3
    }

    func reduce(_ clName: String, _ kernel: String, x: DeviceBuffer, y: DeviceBuffer, count: Int) throws {
        try requirePositive(kernel, ["count": count])
        let input = try own(x, "x", atLeast: count, kernel)
        let output = try own(y, "y", atLeast: 1, kernel)
        let partialKernel = try self.kernel(clName, file: "reduce.cl")
        // At least `count` work-items up to a full group (the scalar tail needs one work-item per element).
        let group = partialKernel.powerOfTwoGroup(atMost: min(tunables.reduceGroup, 2 * OpenCLBackend.powerOfTwo(atMost: count)))
        // At most 64 groups: enough to fill a GPU, few enough for one final group to add them.
        let groups = max(1, min(64, count / (group * tunables.reduceVector)))
        if groups == 1 {
            try launch(clName, file: "reduce.cl", [.buffer(input), .buffer(output), .int(count)],
                       global: [group], local: [group])
            return
        }
        let partials = try scratchBuffer(ScratchSlot.reducePartials, count: groups)
        try launch(clName, file: "reduce.cl", [.buffer(input), .buffer(partials), .int(count)],
                   global: [groups * group], local: [group])
        let finalKernel = try self.kernel("canopy_sum_final", file: "reduce.cl")
        let finalGroup = finalKernel.powerOfTwoGroup(atMost: min(tunables.reduceGroup, OpenCLBackend.powerOfTwo(atMost: groups)))
        try launch("canopy_sum_final", file: "reduce.cl", [.buffer(partials), .buffer(output), .int(groups)],
                   global: [finalGroup], local: [finalGroup])
    }

    func sgdUpdate(param: DeviceBuffer, grad: DeviceBuffer, velocity: DeviceBuffer, count: Int,
                   hyper: SGDHyperparameters) throws {
        try elementwise("canopy_sgd", "sgdUpdate", inputs: [("param", param), ("grad", grad)],
                        outputs: [("velocity", velocity)], count: count,
                        extra: [.float(hyper.learningRate), .float(hyper.momentum), .float(hyper.weightDecay)],
                        file: "optimizer.cl")
    }

    func adamUpdate(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, count: Int,
                    hyper: AdamHyperparameters) throws {
        guard hyper.step >= 1 else {
            throw BackendError.invalidArguments(kernel: "adamUpdate", reason: "step must be at least 1, got \(hyper.step)")
        }
        let correction1 = 1 - Float(pow(Double(hyper.beta1), Double(hyper.step)))
        let correction2 = 1 - Float(pow(Double(hyper.beta2), Double(hyper.step)))
        try elementwise("canopy_adamw", "adamUpdate", inputs: [("param", param), ("grad", grad)],
                        outputs: [("m", m), ("v", v)], count: count,
                        extra: [.float(hyper.learningRate), .float(hyper.beta1), .float(hyper.beta2),
                                .float(hyper.epsilon), .float(hyper.weightDecay), .float(correction1), .float(correction2)],
                        file: "optimizer.cl")
    }

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
