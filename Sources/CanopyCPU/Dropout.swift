import CanopyCore

extension CPUBackend {
    /// Inverted dropout with the counter-based mask of ``DropoutRandom``: element i is dropped when
    /// `uniform(seed, i) < p` and otherwise scaled by `1/(1−p)` (computed in float32). `p` must be in [0, 1).
    func dropout(x: DeviceBuffer, y: DeviceBuffer, mask: DeviceBuffer, probability p: Float, seed: UInt32,
                 count: Int, firstIndex: Int) throws {
        let x = reading(x)
        let y = writing(y)
        let mask = writing(mask)
        let keep: Float = 1 / (1 - p)
        parallelRanges(count: count, grain: 8192) { range in
            for i in range {
                let m: Float = DropoutRandom.uniform(seed: seed, index: UInt32(truncatingIfNeeded: firstIndex + i)) < p ? 0 : keep
                mask[i] = m
                y[i] = x[i] * m
            }
        }
    }
}
