import XCTest
@testable import CanopyTrain

/// SeededRandom against the published xoshiro256** reference, and the train/validation split.
final class RandomAndSplitTests: XCTestCase {
    func testXoshiroMatchesReferenceOutputs() {
        // From Scripts/metrics_reference.py (a direct transcription of the C reference, SplitMix64 seeding).
        var zero = SeededRandom(seed: 0)
        XCTAssertEqual([zero.next(), zero.next(), zero.next()],
                       [0x99ec5f36cb75f2b4, 0xbf6e1f784956452a, 0x1a5f849d4933e6e0])
        var fortyTwo = SeededRandom(seed: 42)
        XCTAssertEqual([fortyTwo.next(), fortyTwo.next(), fortyTwo.next()],
                       [0x15780b2e0c2ec716, 0x6104d9866d113a7e, 0xae17533239e499a1])
    }

    func testUniformAndNormalMoments() {
        var random = SeededRandom(seed: 7)
        let n = 20_000
        var uniforms = [Float](), normals = [Float]()
        for _ in 0..<n { uniforms.append(random.nextFloat()) }
        for _ in 0..<n { normals.append(random.nextNormal()) }
        XCTAssertTrue(uniforms.allSatisfy { $0 >= 0 && $0 < 1 })
        let uniformMean = uniforms.reduce(0, +) / Float(n)
        let normalMean = normals.reduce(0, +) / Float(n)
        let normalVariance = normals.map { ($0 - normalMean) * ($0 - normalMean) }.reduce(0, +) / Float(n)
        print("uniform mean \(uniformMean), normal mean \(normalMean), variance \(normalVariance)")
        // Standard errors: uniform mean 0.002, normal mean 0.007, variance 0.01; allow about 4 of them.
        XCTAssertEqual(uniformMean, 0.5, accuracy: 0.01)
        XCTAssertEqual(normalMean, 0, accuracy: 0.03)
        XCTAssertEqual(normalVariance, 1, accuracy: 0.04)
    }

    func testBoundedIntegersAndShuffleAreUniformAndDeterministic() {
        var random = SeededRandom(seed: 3)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<6000 { counts[random.nextInt(below: 6)] += 1 }
        print("nextInt(below: 6) counts \(counts)")
        XCTAssertTrue(counts.allSatisfy { abs($0 - 1000) < 130 }, "\(counts)")

        var a = SeededRandom(seed: 11), b = SeededRandom(seed: 11)
        let p = a.permutation(50), q = b.permutation(50)
        XCTAssertEqual(p, q)
        XCTAssertEqual(p.sorted(), Array(0..<50))
        XCTAssertNotEqual(p, Array(0..<50))
        var c = SeededRandom(seed: 12)
        XCTAssertNotEqual(c.permutation(50), p)
    }

    func testSplitIsDeterministicDisjointAndComplete() throws {
        let d = try tinyDataset(rows: 10)
        let (train, validation) = try splitTrainValidation(d, validationFraction: 0.3, seed: 5)
        XCTAssertEqual(validation.rowCount, 3)
        XCTAssertEqual(train.rowCount, 7)
        let trainIDs = train.features, validationIDs = validation.features
        XCTAssertEqual(Set(trainIDs + validationIDs), Set((0..<10).map(Float.init)))
        XCTAssertEqual(trainIDs, trainIDs.sorted(), "each part keeps file order")
        XCTAssertEqual(train.labels["y"]!.values, trainIDs.map { $0 * 10 })
        let again = try splitTrainValidation(d, validationFraction: 0.3, seed: 5)
        XCTAssertEqual(again.validation, validation)
        let other = try splitTrainValidation(d, validationFraction: 0.3, seed: 6)
        XCTAssertNotEqual(other.validation.features, validationIDs)
    }

    func testSplitKeepsOneRowEachSideAndRejectsBadFractions() throws {
        let two = try tinyDataset(rows: 2)
        for fraction in [0.01, 0.5, 0.99] {
            let (t, v) = try splitTrainValidation(two, validationFraction: fraction, seed: 1)
            XCTAssertEqual([t.rowCount, v.rowCount], [1, 1], "fraction \(fraction)")
        }
        let (all, none) = try splitTrainValidation(two, validationFraction: 0, seed: 1)
        XCTAssertEqual([all.rowCount, none.rowCount], [2, 0])
        let (one, empty) = try splitTrainValidation(try tinyDataset(rows: 1), validationFraction: 0.5, seed: 1)
        XCTAssertEqual([one.rowCount, empty.rowCount], [1, 0])
        for bad in [-0.1, 1.0, 1.5, Double.nan] {
            XCTAssertThrowsError(try splitTrainValidation(two, validationFraction: bad, seed: 1)) { error in
                XCTAssertTrue("\(error)".contains("validation fraction"), "\(error)")
            }
        }
    }

    func testDesignatedValidationRowsOverrideTheFraction() throws {
        var d = try tinyDataset(rows: 6)
        d.validationRows = [1, 4]
        for fraction in [0.0, 0.5] {
            let (train, validation) = try splitTrainValidation(d, validationFraction: fraction, seed: 3)
            XCTAssertEqual(validation.features, [1, 4], "fraction \(fraction)")
            XCTAssertEqual(train.features, [0, 2, 3, 5])
            XCTAssertEqual(validation.labels["y"]!.values, [10, 40])
            XCTAssertNil(train.validationRows)
            XCTAssertNil(validation.validationRows)
        }
        XCTAssertNil(d.subset(rows: [0, 1]).validationRows, "a subset drops the designated rows")
        d.validationRows = []
        let (all, none) = try splitTrainValidation(d, validationFraction: 0.5, seed: 3)
        XCTAssertEqual([all.rowCount, none.rowCount], [6, 0], "an empty designation means no validation rows")
        XCTAssertThrowsError(try splitTrainValidation(d, validationFraction: 1.5, seed: 3))
    }

    func testBadDesignatedValidationRowsAreErrors() throws {
        var d = try tinyDataset(rows: 4)
        d.validationRows = [2, 1]
        XCTAssertThrowsError(try splitTrainValidation(d, validationFraction: 0.2, seed: 1)) { error in
            XCTAssertEqual("\(error)", "validationRows must be sorted ascending without repeats; entry 1 is 1 after 2")
        }
        d.validationRows = [3, 4]
        XCTAssertThrowsError(try splitTrainValidation(d, validationFraction: 0.2, seed: 1)) { error in
            XCTAssertEqual("\(error)", "validation row 4 (entry 1 of validationRows) is outside 0..<4")
        }
        XCTAssertThrowsError(try Dataset(rowCount: 2, featureCount: 1, features: [0, 1], featureNames: ["id"],
                                         labels: [:], validationRows: [1, 1])) { error in
            XCTAssertTrue("\(error)".contains("without repeats"), "\(error)")
        }
        let good = try Dataset(rowCount: 2, featureCount: 1, features: [0, 1], featureNames: ["id"], labels: [:],
                               validationRows: [1])
        XCTAssertEqual(good.validationRows, [1])
    }
}

/// A dataset whose single feature is the row number and whose label `y` is ten times it.
func tinyDataset(rows: Int) throws -> Dataset {
    try Dataset(rowCount: rows, featureCount: 1, features: (0..<rows).map(Float.init), featureNames: ["id"],
                labels: ["y": LabelColumn(values: (0..<rows).map { Float($0 * 10) })])
}
