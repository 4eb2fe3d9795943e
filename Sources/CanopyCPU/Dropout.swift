import CanopyCore

extension CPUBackend {
    /// Inverted dropout with the counter-based mask of ``DropoutRandom``: element i is dropped when
    /// `uniform(seed, i) < p` and otherwise scaled by `1/(1−p)` (computed in float32). `p` must be in [0, 1).
    func dropout(x: DeviceBuffer, y: DeviceBuffer, mask: DeviceBuffer, probability p: Float, seed: UInt32,
                 count: Int, _ args: inout KernelArguments) throws {
        try args.size(count, "count")
        guard p >= 0 && p < 1 else { throw args.invalid("probability must be in [0, 1), got \(p)") }
        guard count <= Int(UInt32.max) + 1 else { throw args.invalid("count \(count) exceeds 2³² elements") }
        let x = try args.input(x, "x", count: count)
        let y = try args.output(y, "y", count: count)
        let mask = try args.output(mask, "mask", count: count)
        try args.checkAliasing()
        let keep: Float = 1 / (1 - p)
        parallelRanges(count: count, grain: 8192) { range in
            for i in range {
                let m: Float = DropoutRandom.uniform(seed: seed, index: UInt32(truncatingIfNeeded: i)) < p ? 0 : keep
                mask[i] = m
                y[i] = x[i] * m
            }
        }
    }
}
