import CanopyCore

/// Block copies and the mixture of experts with its gradients (mixture.cl).
///
/// Like the CPU backend, these kernels reject an output that is the same buffer as an input, strides below the
/// block width and sizes whose element counts overflow, before anything is enqueued.
extension OpenCLBackend {
    func copyBlock(x: DeviceBuffer, y: DeviceBuffer, rows: Int, cols: Int, xStride: Int, xOffset: Int,
                   yStride: Int, yOffset: Int) throws {
        let name = "copyBlock"
        try requirePositive(name, ["rows": rows, "cols": cols])
        for (label, stride) in [("xStride", xStride), ("yStride", yStride)] where stride < cols {
            throw BackendError.invalidArguments(kernel: name, reason: "\(label) must be at least cols = \(cols), got \(stride)")
        }
        for (label, offset) in [("xOffset", xOffset), ("yOffset", yOffset)] where offset < 0 {
            throw BackendError.invalidArguments(kernel: name, reason: "\(label) must be at least 0, got \(offset)")
        }
        // (rows − 1)·stride + offset + cols elements: the end of the block's last row.
        let xNeeded = try checkedSum(try checkedProduct(name, rows - 1, xStride), xOffset, cols, name)
        let yNeeded = try checkedSum(try checkedProduct(name, rows - 1, yStride), yOffset, cols, name)
        let source = try own(x, "x", atLeast: xNeeded, name), target = try own(y, "y", atLeast: yNeeded, name)
        try requireDistinct(name, inputs: [("x", source)], outputs: [("y", target)])
        try launch2D("canopy_copy_block", [.buffer(source), .buffer(target), .int(rows), .int(cols),
                                           .int(xStride), .int(xOffset), .int(yStride), .int(yOffset)],
                     width: cols, height: rows)
    }

    func mixture(gates: DeviceBuffer, values: DeviceBuffer, y: DeviceBuffer, rows: Int, experts: Int,
                 features: Int) throws {
        let name = "mixture"
        let sizes = try mixtureSizes(name, rows: rows, experts: experts, features: features)
        let g = try own(gates, "gates", atLeast: sizes.gates, name)
        let v = try own(values, "values", atLeast: sizes.values, name)
        let out = try own(y, "y", atLeast: sizes.samples, name)
        try requireDistinct(name, inputs: [("gates", g), ("values", v)], outputs: [("y", out)])
        try launch2D("canopy_mixture", [.buffer(g), .buffer(v), .buffer(out), .int(rows), .int(experts), .int(features)],
                     width: features, height: rows)
    }

    func mixtureBackwardGates(values: DeviceBuffer, dy: DeviceBuffer, dGates: DeviceBuffer, rows: Int, experts: Int,
                              features: Int) throws {
        let name = "mixtureBackwardGates"
        let sizes = try mixtureSizes(name, rows: rows, experts: experts, features: features)
        let v = try own(values, "values", atLeast: sizes.values, name)
        let d = try own(dy, "dy", atLeast: sizes.samples, name)
        let out = try own(dGates, "dGates", atLeast: sizes.gates, name)
        try requireDistinct(name, inputs: [("values", v), ("dy", d)], outputs: [("dGates", out)])
        try launchRows("canopy_mixture_backward_gates", file: "mixture.cl",
                       [.buffer(v), .buffer(d), .buffer(out), .int(rows), .int(experts), .int(features)],
                       rows: sizes.gates, rowLength: features)
    }

    func mixtureBackwardValues(gates: DeviceBuffer, dy: DeviceBuffer, dValues: DeviceBuffer, rows: Int, experts: Int,
                               features: Int) throws {
        let name = "mixtureBackwardValues"
        let sizes = try mixtureSizes(name, rows: rows, experts: experts, features: features)
        let g = try own(gates, "gates", atLeast: sizes.gates, name)
        let d = try own(dy, "dy", atLeast: sizes.samples, name)
        let out = try own(dValues, "dValues", atLeast: sizes.values, name)
        try requireDistinct(name, inputs: [("gates", g), ("dy", d)], outputs: [("dValues", out)])
        try launch2D("canopy_mixture_backward_values",
                     [.buffer(g), .buffer(d), .buffer(out), .int(rows), .int(experts), .int(features)],
                     width: features, height: sizes.gates)
    }

    // MARK: - Helpers

    /// Element counts of a mixture's buffers: gates and dGates `rows·experts`, values `rows·experts·features`,
    /// y and dy `rows·features`.
    private func mixtureSizes(_ kernel: String, rows: Int, experts: Int,
                              features: Int) throws -> (gates: Int, values: Int, samples: Int) {
        try requirePositive(kernel, ["rows": rows, "experts": experts, "features": features])
        let gates = try checkedProduct(kernel, rows, experts)
        return (gates, try checkedProduct(kernel, gates, features), try checkedProduct(kernel, rows, features))
    }

    /// `a · b`, or an error naming the kernel instead of an overflow trap.
    private func checkedProduct(_ kernel: String, _ a: Int, _ b: Int) throws -> Int {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw BackendError.invalidArguments(kernel: kernel, reason: "sizes \(a) × \(b) overflow") }
        return value
    }

    /// `a + b + c`, or an error naming the kernel instead of an overflow trap.
    private func checkedSum(_ a: Int, _ b: Int, _ c: Int, _ kernel: String) throws -> Int {
        let (ab, first) = a.addingReportingOverflow(b)
        let (abc, second) = ab.addingReportingOverflow(c)
        guard !first, !second else { throw BackendError.invalidArguments(kernel: kernel, reason: "sizes overflow") }
        return abc
    }

    /// Throws if an output is the same buffer as an input (a kernel could then read what it has already written).
    private func requireDistinct(_ kernel: String, inputs: [(String, CLBuffer)], outputs: [(String, CLBuffer)]) throws {
        for (outputRole, output) in outputs {
            for (inputRole, input) in inputs where input === output {
                throw BackendError.invalidArguments(kernel: kernel,
                    reason: "\(outputRole) and \(inputRole) are the same buffer; outputs must not alias inputs")
            }
        }
    }

    /// Launches a 2-D element-wise kernel of mixture.cl over `width` (dimension 0, the contiguous axis) by `height`.
    /// The work-group is a power-of-two shape of at most `elementwiseGroup` work-items (and at most what the
    /// device allows for this kernel), as wide as the contiguous axis allows, so that short rows leave room
    /// for several rows per group instead of idle work-items.
    private func launch2D(_ clName: String, _ arguments: [CLArgument], width: Int, height: Int) throws {
        let kernel = try self.kernel(clName, file: "mixture.cl")
        let group = kernel.powerOfTwoGroup(atMost: tunables.elementwiseGroup)
        let across = min(group, OpenCLBackend.powerOfTwo(atMost: width))
        let down = min(group / across, OpenCLBackend.powerOfTwo(atMost: height))
        try launch(clName, file: "mixture.cl", arguments, global: [width, height], local: [across, down])
    }
}
