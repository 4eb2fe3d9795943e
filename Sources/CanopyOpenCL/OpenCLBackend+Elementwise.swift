import CanopyCore

/// A buffer argument with the name errors use for it.
typealias NamedBuffer = (String, DeviceBuffer)

extension OpenCLBackend {
    /// Enqueues a 1-D element-wise kernel of elementwise.cl taking `(inputs..., outputs..., extra..., count)`,
    /// binding every buffer of this backend (``execute(_:)`` has checked the call's contract).
    func elementwise(_ clName: String, _ kernel: String, inputs: [NamedBuffer], outputs: [NamedBuffer],
                     count: Int, extra: [CLArgument] = [], file: String = "elementwise.cl") throws {
        var arguments: [CLArgument] = []
        for (_, buffer) in inputs + outputs { arguments.append(.buffer(try own(buffer))) }
        try launch(clName, file: file, arguments + extra + [.int(count)],
                   global: [count], local: [tunables.elementwiseGroup])
    }

    func fill(y: DeviceBuffer, value: Float, count: Int) throws {
        let target = try own(y)
        try launch("canopy_fill", file: "elementwise.cl", [.buffer(target), .float(value), .int(count)],
                   global: [count], local: [tunables.elementwiseGroup])
    }

    func biasAdd(x: DeviceBuffer, bias: DeviceBuffer, y: DeviceBuffer, outer: Int, channels: Int, inner: Int) throws {
        let count = outer * channels * inner
        let arguments: [CLArgument] = [
            .buffer(try own(x)), .buffer(try own(bias)),
            .buffer(try own(y)), .int(channels), .int(inner), .int(count),
        ]
        try launch("canopy_bias_add", file: "elementwise.cl", arguments, global: [count], local: [tunables.elementwiseGroup])
    }

    func biasGradient(dy: DeviceBuffer, dBias: DeviceBuffer, outer: Int, channels: Int, inner: Int) throws {
        let arguments: [CLArgument] = [
            .buffer(try own(dy)),
            .buffer(try own(dBias)), .int(outer), .int(channels), .int(inner),
        ]
        try launchRows("canopy_bias_gradient", file: "elementwise.cl", arguments, rows: channels, rowLength: inner)
    }

    func dropout(x: DeviceBuffer, y: DeviceBuffer, mask: DeviceBuffer, probability: Float, seed: UInt32, count: Int) throws {
        // Computed here in Swift, exactly as the CPU backend does, so that masks match bit for bit.
        let keepScale: Float = 1 / (1 - probability)
        try elementwise("canopy_dropout", "dropout", inputs: [("x", x)], outputs: [("y", y), ("mask", mask)],
                        count: count, extra: [.float(probability), .float(keepScale), .uint(seed)])
    }

    /// Launches a row-team kernel (see common.cl): `rows` rows of `rowLength` elements, one work-item per row
    /// for short rows, a team of a power-of-two lanes per row for long ones (on CPUs only when there are
    /// too few rows to keep the cores busy).
    func launchRows(_ clName: String, file: String, _ arguments: [CLArgument], rows: Int, rowLength: Int) throws {
        let kernel = try self.kernel(clName, file: file)
        let limit = kernel.powerOfTwoGroup(atMost: tunables.rowTeam)
        let fewRows = tunables.gpuStyle || rows < 4 * device.info.computeUnits
        let wanted = tunables.gpuStyle ? rowLength : rowLength / 16
        let team = fewRows && rowLength >= tunables.rowTeamThreshold
            ? min(limit, tunables.rowTeamMaximum, OpenCLBackend.powerOfTwo(atMost: wanted)) : 1
        let rowsWanted = tunables.gpuStyle ? max(1, 64 / team)
            : (rows + device.info.computeUnits - 1) / max(device.info.computeUnits, 1)
        let rowsPerGroup = OpenCLBackend.powerOfTwo(atMost: max(1, min(limit / team, rowsWanted)))
        try launch(clName, file: file, arguments, global: [team, rows], local: [team, rowsPerGroup])
    }

    /// The largest power of two not above `limit` (1 for limits below 2).
    static func powerOfTwo(atMost limit: Int) -> Int {
        var size = 1
        while size * 2 <= limit { size *= 2 }
        return size
    }
}
