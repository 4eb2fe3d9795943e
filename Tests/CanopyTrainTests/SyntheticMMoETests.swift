import XCTest
@testable import CanopyTrain

/// The builtin `synthetic-mmoe` (Ma et al., KDD 2018, section 4.1).
final class SyntheticMMoETests: XCTestCase {
    private func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) {
            sab += (x - ma) * (y - mb)
            saa += (x - ma) * (x - ma)
            sbb += (y - mb) * (y - mb)
        }
        return sab / (saa * sbb).squareRoot()
    }

    private func variance(_ a: [Double]) -> Double {
        let m = a.reduce(0, +) / Double(a.count)
        return a.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(a.count - 1)
    }

    /// `w1ᵀx` and `w2ᵀx` for every row.
    private func projections(_ g: SyntheticMMoE, _ d: Dataset) -> (z1: [Double], z2: [Double]) {
        var z1 = [Double](), z2 = [Double]()
        for row in 0..<d.rowCount {
            let x = d.row(row).map(Double.init)
            z1.append(zip(g.w1, x).reduce(0) { $0 + $1.0 * $1.1 })
            z2.append(zip(g.w2, x).reduce(0) { $0 + $1.0 * $1.1 })
        }
        return (z1, z2)
    }

    func testWeightVectorsHaveTheDocumentedGeometry() throws {
        for p in [-0.3, 0.5, 1.0] {
            let g = try SyntheticMMoE(features: 100, correlation: p, noiseVariance: 0.01, seed: 4)
            let dot = zip(g.w1, g.w2).reduce(0) { $0 + $1.0 * $1.1 }
            let n1 = g.w1.reduce(0) { $0 + $1 * $1 }.squareRoot(), n2 = g.w2.reduce(0) { $0 + $1 * $1 }.squareRoot()
            print("synthetic-mmoe p = \(p): ‖w1‖ = \(n1), ‖w2‖ = \(n2), w1·w2 = \(dot)")
            XCTAssertEqual(n1, 1, accuracy: 1e-12)
            XCTAssertEqual(n2, 1, accuracy: 1e-12)
            XCTAssertEqual(dot, p, accuracy: 1e-12)
            XCTAssertEqual(g.alpha.count, 10)
            XCTAssertEqual(g.beta.count, 10)
        }
    }

    func testProjectionCorrelationIsTheRequestedCorrelation() throws {
        for p in [0.5, 1.0] {
            let g = try SyntheticMMoE(features: 16, correlation: p, noiseVariance: 0.01, seed: 1)
            let d = try g.makeDataset(rows: 20_000)
            let (z1, z2) = projections(g, d)
            let r = pearson(z1, z2)
            print("synthetic-mmoe p = \(p): Pearson(w1ᵀx, w2ᵀx) = \(r) over 20000 rows, difference \(abs(r - p)); "
                  + "var(w1ᵀx) = \(variance(z1))")
            XCTAssertEqual(r, p, accuracy: p == 1 ? 1e-9 : 0.02)
            XCTAssertEqual(variance(z1), 1, accuracy: 0.05, "w1ᵀx ~ N(0, c²) with c = 1")
            let labelCorrelation = pearson(d.labels["y1"]!.values.map(Double.init), d.labels["y2"]!.values.map(Double.init))
            print("synthetic-mmoe p = \(p): Pearson(y1, y2) = \(labelCorrelation)")
            if p == 1 { XCTAssertGreaterThan(labelCorrelation, 0.95, "the same task up to noise") }
        }
    }

    func testLabelsAreTheDocumentedFunctionPlusNoiseOfTheRequestedVariance() throws {
        let g = try SyntheticMMoE(features: 8, correlation: 0.2, noiseVariance: 0.01, seed: 2)
        let d = try g.makeDataset(rows: 20_000)
        let (z1, z2) = projections(g, d)
        var residuals = [Double]()
        for row in 0..<d.rowCount {
            residuals.append(Double(d.labels["y1"]!.values[row]) - g.signal(z1[row]))
            residuals.append(Double(d.labels["y2"]!.values[row]) - g.signal(z2[row]))
        }
        let noise = variance(residuals)
        let labelVariance = variance(d.labels["y1"]!.values.map(Double.init))
        print("synthetic-mmoe: noise variance \(noise) (requested 0.01), var(y1) = \(labelVariance)")
        XCTAssertEqual(noise, 0.01, accuracy: 0.0005)
        XCTAssertGreaterThan(labelVariance, 0.5)
        XCTAssertLessThan(labelVariance, 50, "z plus ten bounded sines: the variance is a few units at most")
        XCTAssertTrue(d.labels["y1"]!.values.allSatisfy(\.isFinite))

        // Without noise a label is exactly the signal of its row (up to float32 rounding of the label).
        let clean = try SyntheticMMoE(features: 8, correlation: 0.2, noiseVariance: 0, seed: 2)
        let cleanData = try clean.makeDataset(rows: 500)
        let (c1, _) = projections(clean, cleanData)
        let largest = (0..<500).map { abs(Double(cleanData.labels["y1"]!.values[$0]) - clean.signal(c1[$0])) }.max()!
        print("synthetic-mmoe: largest |y1 − signal(w1ᵀx)| without noise \(largest)")
        XCTAssertLessThan(largest, 1e-5)
        XCTAssertEqual(cleanData.features, Array(d.features.prefix(500 * 8)), "noise draws do not shift the rows")
    }

    func testBuiltinOptionsDeterminismAndNames() throws {
        let options: [String: Double] = ["features": 5, "rows": 30, "seed": 9, "correlation": -0.4, "noise": 0.1]
        let a = try BuiltinDataset.load(named: "synthetic-mmoe", options: options)
        XCTAssertEqual(a, try BuiltinDataset.load(named: "synthetic-mmoe", options: options))
        var other = options
        other["seed"] = 10
        XCTAssertNotEqual(a.features, try BuiltinDataset.load(named: "synthetic-mmoe", options: other).features)
        XCTAssertEqual(a.rowCount, 30)
        XCTAssertEqual(a.featureNames, ["x0", "x1", "x2", "x3", "x4"])
        XCTAssertEqual(a.labelNames, ["y1", "y2"])
        XCTAssertNil(a.validationRows)
        let g = try SyntheticMMoE(features: 5, correlation: -0.4, noiseVariance: 0.1, seed: 9)
        XCTAssertEqual(try g.makeDataset(rows: 30), a, "the builtin is the generator with the same options")
        let defaults = try BuiltinDataset.load(named: "synthetic-mmoe", options: ["rows": 10])
        XCTAssertEqual(defaults.featureCount, 100)
    }
}
