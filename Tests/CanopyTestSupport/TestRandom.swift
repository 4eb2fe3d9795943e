/// A small deterministic random generator (SplitMix64) for reproducible test inputs.
///
/// The same seed gives the same sequence on every platform and run. Not for cryptography or statistics.
public struct TestRandom {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A float uniform in `[0, 1)` with 24 random bits.
    public mutating func unit() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A float uniform in `range`.
    public mutating func float(in range: ClosedRange<Float>) -> Float {
        range.lowerBound + (range.upperBound - range.lowerBound) * unit()
    }

    /// An integer uniform in `0..<bound` (bound ≥ 1).
    public mutating func int(below bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// `count` floats uniform in `range`.
    public mutating func floats(_ count: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in float(in: range) }
    }

    /// `count` floats with `minimum ≤ |x| ≤ maximum` and a random sign: inputs kept away from a kink at 0
    /// (relu) by more than any finite-difference step below `minimum`.
    public mutating func floatsAwayFromZero(_ count: Int, minimum: Float = 0.1, maximum: Float = 1) -> [Float] {
        (0..<count).map { _ in
            let magnitude = float(in: minimum...maximum)
            return next() & 1 == 0 ? magnitude : -magnitude
        }
    }

    /// `count` distinct values `offset + spacing·π(i)` for a random permutation π: any two differ by at least
    /// `spacing`, so a maximum cannot change under perturbations smaller than `spacing / 2`.
    public mutating func distinctFloats(_ count: Int, spacing: Float = 0.05, offset: Float? = nil) -> [Float] {
        var values = (0..<count).map { (offset ?? -spacing * Float(count) / 2) + spacing * Float($0) }
        shuffle(&values)
        return values
    }

    /// Class labels in `0..<classes`, stored as floats.
    public mutating func labels(_ count: Int, classes: Int) -> [Float] {
        (0..<count).map { _ in Float(int(below: classes)) }
    }

    /// A 0/1 mask with the given rows set to 0 and all others 1.
    public static func mask(_ count: Int, unlabelled: Set<Int>) -> [Float] {
        (0..<count).map { unlabelled.contains($0) ? 0 : 1 }
    }

    /// Fisher–Yates shuffle driven by this generator.
    public mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, int(below: i + 1))
        }
    }
}
