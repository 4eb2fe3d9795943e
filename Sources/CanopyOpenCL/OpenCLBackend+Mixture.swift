import CanopyCore

/// Block copies and the mixture of experts with its gradients (mixture.cl).
extension OpenCLBackend {
    func copyBlock(x: DeviceBuffer, y: DeviceBuffer, rows: Int, cols: Int, xStride: Int, xOffset: Int,
                   yStride: Int, yOffset: Int) throws {
        let source = try own(x), target = try own(y)
        try launch2D(CLKernels.copyBlock, [.buffer(source), .buffer(target), .int(rows), .int(cols),
                                           .int(xStride), .int(xOffset), .int(yStride), .int(yOffset)],
                     width: cols, height: rows)
    }

    func mixture(gates: DeviceBuffer, values: DeviceBuffer, y: DeviceBuffer, rows: Int, experts: Int,
                 features: Int) throws {
        let g = try own(gates)
        let v = try own(values)
        let out = try own(y)
        try launch2D(CLKernels.mixture, [.buffer(g), .buffer(v), .buffer(out), .int(rows), .int(experts), .int(features)],
                     width: features, height: rows)
    }

    func mixtureBackwardGates(values: DeviceBuffer, dy: DeviceBuffer, dGates: DeviceBuffer, rows: Int, experts: Int,
                              features: Int) throws {
        let v = try own(values)
        let d = try own(dy)
        let out = try own(dGates)
        try launchRows(CLKernels.mixtureBackwardGates, [.buffer(v), .buffer(d), .buffer(out), .int(rows), .int(experts), .int(features)],
                       rows: rows * experts, rowLength: features)
    }

    func mixtureBackwardValues(gates: DeviceBuffer, dy: DeviceBuffer, dValues: DeviceBuffer, rows: Int, experts: Int,
                               features: Int, accumulate: Bool) throws {
        let g = try own(gates)
        let d = try own(dy)
        let out = try own(dValues)
        let kernel = try self.kernel(CLKernels.mixtureBackwardValues)
        let group = kernel.powerOfTwoGroup(atMost: tunables.elementwiseGroup)
        let across = min(group, OpenCLBackend.powerOfTwo(atMost: features))
        let down = min(group / across, OpenCLBackend.powerOfTwo(atMost: experts))
        try launch(CLKernels.mixtureBackwardValues,
                   [.buffer(g), .buffer(d), .buffer(out), .int(rows), .int(experts), .int(features),
                    .int(accumulate ? 1 : 0)],
                   global: [features, experts, rows], local: [across, down, 1])
    }

    /// A work-item per 16 features of a sample, with at most `rowTeam / experts` samples per work-group: their
    /// gates are shared through a local array of `rowTeam` floats. Gates too many for that array run as the two
    /// kernels the call replaces.
    func mixtureSoftmax(logits: DeviceBuffer, values: DeviceBuffer, gates: DeviceBuffer, y: DeviceBuffer, rows: Int,
                        experts: Int, features: Int) throws {
        guard experts <= tunables.rowTeam else {
            try rowKernel(CLKernels.softmax, [logits, gates], rows: rows, cols: experts)
            return try mixture(gates: gates, values: values, y: y, rows: rows, experts: experts, features: features)
        }
        let kernel = try self.kernel(CLKernels.mixtureSoftmax)
        let group = kernel.powerOfTwoGroup(atMost: tunables.elementwiseGroup)
        let blocks = (features + 15) / 16
        let across = min(group, OpenCLBackend.powerOfTwo(atMost: blocks))
        let down = max(1, min(group / across, OpenCLBackend.powerOfTwo(atMost: tunables.rowTeam / experts)))
        try launch(CLKernels.mixtureSoftmax, [.buffer(try own(logits)), .buffer(try own(values)), .buffer(try own(gates)),
                                              .buffer(try own(y)), .int(rows), .int(experts), .int(features)],
                   global: [blocks, rows], local: [across, down])
    }

    /// One team of work-items per sample (the row-team launch), each lane over its features of every expert.
    func mixtureBackwardLogits(values: DeviceBuffer, gates: DeviceBuffer, dy: DeviceBuffer, dLogits: DeviceBuffer,
                               rows: Int, experts: Int, features: Int) throws {
        try launchRows(CLKernels.mixtureBackwardLogits, [.buffer(try own(values)), .buffer(try own(gates)),
                                                         .buffer(try own(dy)), .buffer(try own(dLogits)), .int(rows),
                                                         .int(experts), .int(features)],
                       rows: rows, rowLength: features)
    }

    // MARK: - Helpers

    /// Launches a 2-D element-wise kernel of mixture.cl over `width` (dimension 0, the contiguous axis) by `height`.
    /// The work-group is a power-of-two shape of at most `elementwiseGroup` work-items (and at most what the
    /// device allows for this kernel), as wide as the contiguous axis allows, so that short rows leave room
    /// for several rows per group instead of idle work-items.
    private func launch2D(_ signature: CLKernelSignature, _ arguments: [CLArgument], width: Int, height: Int) throws {
        let kernel = try self.kernel(signature)
        let group = kernel.powerOfTwoGroup(atMost: tunables.elementwiseGroup)
        let across = min(group, OpenCLBackend.powerOfTwo(atMost: width))
        let down = min(group / across, OpenCLBackend.powerOfTwo(atMost: height))
        try launch(signature, arguments, global: [width, height], local: [across, down])
    }
}
