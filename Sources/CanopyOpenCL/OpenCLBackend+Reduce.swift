import CanopyCore

/// Whole-array reductions (reduce.cl), and the scratch slots all kernel families share.
extension OpenCLBackend {
    /// Scratch slots, so that one operation's temporaries never overwrite another's still in use.
    enum ScratchSlot {
        static let transpose = 0, convColumns = 1, reducePartials = 2
    }

    func reduce(_ kernel: CLKernelSignature, x: DeviceBuffer, y: DeviceBuffer, count: Int) throws {
        let input = try own(x)
        let output = try own(y)
        let partialKernel = try self.kernel(kernel)
        // At least `count` work-items up to a full group (the scalar tail needs one work-item per element).
        let group = partialKernel.powerOfTwoGroup(atMost: min(tunables.reduceGroup, 2 * OpenCLBackend.powerOfTwo(atMost: count)))
        // At most 64 groups: enough to fill a GPU, few enough for one final group to add them.
        let groups = max(1, min(64, count / (group * tunables.reduceVector)))
        if groups == 1 {
            try launch(kernel, [.buffer(input), .buffer(output), .int(count)],
                       global: [group], local: [group])
            return
        }
        let partials = try scratchBuffer(ScratchSlot.reducePartials, count: groups)
        try launch(kernel, [.buffer(input), .buffer(partials), .int(count)],
                   global: [groups * group], local: [group])
        let finalKernel = try self.kernel(CLKernels.sumFinal)
        let finalGroup = finalKernel.powerOfTwoGroup(atMost: min(tunables.reduceGroup, OpenCLBackend.powerOfTwo(atMost: groups)))
        try launch(CLKernels.sumFinal, [.buffer(partials), .buffer(output), .int(groups)],
                   global: [finalGroup], local: [finalGroup])
    }
}
