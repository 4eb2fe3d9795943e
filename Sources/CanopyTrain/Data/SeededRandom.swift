import Foundation

/// Canopy's pseudo-random number generator: xoshiro256** seeded through SplitMix64.
///
/// Every random choice Canopy makes (initial weights, shuffling, splits, dropout) draws from a `SeededRandom`,
/// never from the system generator, so one seed reproduces a run bit for bit on every platform and Swift version.
///
/// - The 256-bit state is filled from `seed` by four steps of SplitMix64 (Steele, Lea & Flood, 2014), as the
///   xoshiro authors recommend; any seed, including 0, gives a valid, well-mixed state.
/// - ``next()`` is xoshiro256** 1.0 (Blackman & Vigna, 2018). Its first outputs for seed 0 are pinned by tests.
/// - The algorithms below (uniform floats, normals, bounded integers, shuffles) are Canopy's own and fixed, not
///   the standard library's, whose algorithms may change between releases.
///
/// ```swift
/// var random = SeededRandom(seed: 7)
/// let w = random.nextNormal()            // N(0, 1)
/// var order = Array(0..<10); random.shuffle(&order)
/// ```
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64
    /// The second normal of the last Box–Muller pair, not yet returned.
    private var spareNormal: Float?

    /// Makes a generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
        spareNormal = nil
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform float in [0, 1): the top 24 bits of ``next()`` times 2⁻²⁴, so every value is a multiple of 2⁻²⁴.
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform double in [0, 1): the top 53 bits of ``next()`` times 2⁻⁵³.
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal float (mean 0, standard deviation 1) by the Box–Muller transform.
    ///
    /// Each pair of uniform doubles u₁ ∈ (0, 1], u₂ ∈ [0, 1) gives two normals
    /// `r·cos(2πu₂)` and `r·sin(2πu₂)` with `r = √(−2 ln u₁)`; the first is returned now and the second on the
    /// next call. Computed in double precision, then rounded to float.
    public mutating func nextNormal() -> Float {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        let u1 = 1.0 - nextDouble()
        let u2 = nextDouble()
        let r = (-2.0 * Foundation.log(u1)).squareRoot()
        let angle = 2.0 * Double.pi * u2
        spareNormal = Float(r * Foundation.sin(angle))
        return Float(r * Foundation.cos(angle))
    }

    /// A normal float with the given mean and standard deviation.
    public mutating func nextNormal(mean: Float, standardDeviation: Float) -> Float {
        mean + standardDeviation * nextNormal()
    }

    /// A uniform integer in `0..<bound`, without modulo bias (Lemire's multiply-and-reject method).
    ///
    /// - Precondition: `bound > 0`.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "SeededRandom.nextInt(below:): bound must be positive, got \(bound)")
        let n = UInt64(bound)
        var product = next().multipliedFullWidth(by: n)
        if product.low < n {
            let threshold = (0 &- n) % n
            while product.low < threshold { product = next().multipliedFullWidth(by: n) }
        }
        return Int(product.high)
    }

    /// Shuffles `array` in place by the Fisher–Yates algorithm, walking from the last element down and swapping
    /// element `i` with a uniformly chosen element in `0...i`.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A shuffled copy of `array` (see ``shuffle(_:)``).
    public mutating func shuffled<T>(_ array: [T]) -> [T] {
        var copy = array
        shuffle(&copy)
        return copy
    }

    /// A permutation of `0..<count`: the identity, shuffled.
    public mutating func permutation(_ count: Int) -> [Int] {
        shuffled(Array(0..<max(count, 0)))
    }
}

@inline(__always)
private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 {
    (x << k) | (x >> (64 - k))
}
