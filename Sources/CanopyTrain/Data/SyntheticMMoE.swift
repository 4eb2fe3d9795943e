import Foundation

/// The builtin `synthetic-mmoe`: two regression tasks whose correlation is set by one number.
///
/// The generator of Ma et al., "Modeling Task Relationships in Multi-task Learning with Multi-gate
/// Mixture-of-Experts" (KDD 2018), section 4.1, with which they show that the benefit of sharing falls as tasks
/// become less related. Constants and options:
///
/// | symbol | name in Canopy          | value                                                        |
/// |--------|-------------------------|--------------------------------------------------------------|
/// | d      | `features`              | input dimension, default 100, in 2 … 10,000                  |
/// | p      | `correlation`           | the tasks' correlation score, default 0.5, in [−1, 1]        |
/// | c      | ``scale``               | 1, the length of the weight vectors                          |
/// | m      | ``sinusoids``           | 10, the number of sine terms                                 |
/// | σ²     | `noise`                 | variance of the label noise, default 0.01 (the paper's N(0, 0.01)) |
/// |        | `rows`, `seed`          | default 10,000 and 0                                         |
///
/// The parameters, drawn once from `SeededRandom(seed: seed)` in this order:
/// 1. `u1, u2 ∈ Rᵈ`, two orthogonal unit vectors: two Gaussian vectors (d normals each) made orthonormal by
///    Gram–Schmidt, `u1 = g1/‖g1‖`, `u2 = (g2 − (g2·u1)u1)/‖…‖` (a vector too close to zero is drawn again).
/// 2. `w1 = c·u1` and `w2 = c·(p·u1 + √(1 − p²)·u2)`, so `‖w1‖ = ‖w2‖ = c` and `w1·w2 = c²p`.
/// 3. `α_i` for i = 1 … m, then `β_i` for i = 1 … m, each N(0, 1).
///
/// Then each row, continuing the same generator: `x ~ N(0, I_d)` (d normals), then `ε1` and `ε2` ~ N(0, σ²)
/// (always drawn, so rows differ only in their labels between noise levels), and
///
///     y1 = w1ᵀx + Σᵢ sin(α_i·w1ᵀx + β_i) + ε1
///     y2 = w2ᵀx + Σᵢ sin(α_i·w2ᵀx + β_i) + ε2
///
/// Because x is standard normal, `w1ᵀx` and `w2ᵀx` are N(0, c²) with Pearson correlation exactly p; the labels'
/// correlation rises with p but is not equal to it (the sines are not linear). Normals are
/// ``SeededRandom/nextNormal()`` (float32) widened to double; sums and labels are computed in double and stored
/// as float32 from the float32 features, so a label is a function of the stored row. Features are `x0` …
/// `x{d−1}`, label columns `y1` and `y2` (regression), all present. The same options give the same data on
/// every platform.
public struct SyntheticMMoE: Sendable {
    /// c, the length of both weight vectors: 1 (as in the paper).
    public static let scale = 1.0
    /// m, the number of sine terms in each label: 10 (as in the paper).
    public static let sinusoids = 10
    /// The largest `features` (d) accepted.
    public static let maximumFeatures = 10_000
    /// The largest `rows` accepted; `rows × features` must also stay within 2²⁸ values (1 GiB of float32).
    public static let maximumRows = 10_000_000
    static let maximumValues = 1 << 28

    /// d, the input dimension.
    public let features: Int
    /// p, the correlation score in [−1, 1].
    public let correlation: Double
    /// σ², the variance of each label's noise.
    public let noiseVariance: Double
    /// The first task's weights `w1 = c·u1` (d values).
    public let w1: [Double]
    /// The second task's weights `w2 = c·(p·u1 + √(1 − p²)·u2)` (d values).
    public let w2: [Double]
    /// The sines' frequencies α₁ … α_m.
    public let alpha: [Double]
    /// The sines' phases β₁ … β_m.
    public let beta: [Double]
    /// The generator's state after the parameters were drawn; rows continue from here.
    private let rowRandom: SeededRandom

    /// Draws the task parameters for the given options.
    ///
    /// - Throws: ``DataError`` when `features` is not in 2 … ``maximumFeatures``, `correlation` not in [−1, 1],
    ///   or `noiseVariance` negative or not finite.
    public init(features: Int, correlation: Double, noiseVariance: Double, seed: UInt64) throws {
        guard features >= 2, features <= Self.maximumFeatures else {
            throw DataError(message: "synthetic-mmoe features must be in 2…\(Self.maximumFeatures), got \(features)")
        }
        guard correlation >= -1, correlation <= 1 else {
            throw DataError(message: "synthetic-mmoe correlation must be in [-1, 1], got \(correlation)")
        }
        guard noiseVariance >= 0, noiseVariance.isFinite else {
            throw DataError(message: "synthetic-mmoe noise (a variance) must be a finite number ≥ 0, got \(noiseVariance)")
        }
        var random = SeededRandom(seed: seed)
        func gaussian() -> [Double] { (0..<features).map { _ in Double(random.nextNormal()) } }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

        var u1 = gaussian()
        while dot(u1, u1) < 1e-12 { u1 = gaussian() }
        let length1 = dot(u1, u1).squareRoot()
        u1 = u1.map { $0 / length1 }
        var u2: [Double]
        repeat {
            let g = gaussian()
            let along = dot(g, u1)
            u2 = zip(g, u1).map { $0 - along * $1 }
        } while dot(u2, u2) < 1e-12
        let length2 = dot(u2, u2).squareRoot()
        u2 = u2.map { $0 / length2 }

        let c = Self.scale, p = correlation, q = (1 - p * p).squareRoot()
        self.features = features
        self.correlation = correlation
        self.noiseVariance = noiseVariance
        self.w1 = u1.map { c * $0 }
        self.w2 = zip(u1, u2).map { c * (p * $0 + q * $1) }
        self.alpha = (0..<Self.sinusoids).map { _ in Double(random.nextNormal()) }
        self.beta = (0..<Self.sinusoids).map { _ in Double(random.nextNormal()) }
        self.rowRandom = random
    }

    /// The noiseless label for a projection `z = wᵀx`: `z + Σᵢ sin(α_i·z + β_i)`.
    public func signal(_ z: Double) -> Double {
        var y = z
        for i in 0..<alpha.count { y += Foundation.sin(alpha[i] * z + beta[i]) }
        return y
    }

    /// Generates `rows` rows (the same rows every time for the same parameters).
    ///
    /// - Throws: ``DataError`` when `rows` is not in 1 … ``maximumRows`` or `rows × features` exceeds 2²⁸.
    public func makeDataset(rows: Int) throws -> Dataset {
        guard rows >= 1, rows <= Self.maximumRows else {
            throw DataError(message: "synthetic-mmoe rows must be in 1…\(Self.maximumRows), got \(rows)")
        }
        guard rows * features <= Self.maximumValues else {
            throw DataError(message: "synthetic-mmoe rows × features = \(rows) × \(features) is more than "
                                + "\(Self.maximumValues) values (1 GiB); use fewer rows or features")
        }
        var random = rowRandom
        let noise = noiseVariance.squareRoot()
        var x = [Float](repeating: 0, count: rows * features)
        var y1 = [Float](repeating: 0, count: rows), y2 = [Float](repeating: 0, count: rows)
        for row in 0..<rows {
            var z1 = 0.0, z2 = 0.0
            for j in 0..<features {
                let value = random.nextNormal()
                x[row * features + j] = value
                z1 += w1[j] * Double(value)
                z2 += w2[j] * Double(value)
            }
            let e1 = noise * Double(random.nextNormal()), e2 = noise * Double(random.nextNormal())
            y1[row] = Float(signal(z1) + e1)
            y2[row] = Float(signal(z2) + e2)
        }
        return Dataset(checkedRowCount: rows, featureCount: features, features: x,
                       featureNames: (0..<features).map { "x\($0)" },
                       labels: ["y1": LabelColumn(values: y1), "y2": LabelColumn(values: y2)])
    }
}
