import Foundation
import XCTest
@testable import CanopyTrain

/// The builtin `multidigits`: layout of the 8 × 16 images, labels, the leak-free designated split, determinism.
final class MultiDigitsTests: XCTestCase {
    /// The base digit (its row in `digits`) whose 64 pixels are `pixels`; every digits image is distinct.
    private func baseIndex(of pixels: [Float], in lookup: [[Float]: Int]) -> Int? { lookup[pixels] }

    func testImagesAreTwoBaseDigitsSideBySideWithMatchingLabels() throws {
        let digits = try BuiltinDataset.load(named: "digits")
        var lookup = [[Float]: Int]()
        for r in 0..<digits.rowCount { lookup[Array(digits.row(r))] = r }
        XCTAssertEqual(lookup.count, 1797, "the base images are distinct, so pixels identify a base image")

        let d = try BuiltinDataset.load(named: "multidigits", options: ["rows": 600, "seed": 3])
        XCTAssertEqual(d.rowCount, 600)
        XCTAssertEqual(d.featureCount, 128)
        XCTAssertEqual(d.featureNames.first, "p0")
        XCTAssertEqual(d.featureNames.last, "p127")
        XCTAssertEqual(d.labelNames, ["left", "right", "same_parity", "sum"])
        let left = d.labels["left"]!.values, right = d.labels["right"]!.values
        var leftDigitsSeen = Set<Float>(), rightDigitsSeen = Set<Float>()
        var mismatches = 0
        for row in 0..<d.rowCount {
            let image = Array(d.row(row))  // feature r·16 + c is row r, column c of the 8 × 16 image
            let leftHalf = (0..<8).flatMap { r in image[(r * 16)..<(r * 16 + 8)] }
            let rightHalf = (0..<8).flatMap { r in image[(r * 16 + 8)..<(r * 16 + 16)] }
            guard let a = baseIndex(of: leftHalf, in: lookup), let b = baseIndex(of: rightHalf, in: lookup) else {
                mismatches += 1
                continue
            }
            if digits.labels["digit"]!.values[a] != left[row] || digits.labels["digit"]!.values[b] != right[row] {
                mismatches += 1
            }
            XCTAssertEqual(d.labels["sum"]!.values[row], left[row] + right[row])
            XCTAssertEqual(d.labels["same_parity"]!.values[row], Int(left[row]) % 2 == Int(right[row]) % 2 ? 1 : 0)
            leftDigitsSeen.insert(left[row])
            rightDigitsSeen.insert(right[row])
        }
        print("multidigits: \(mismatches) rows whose halves are not base digits with their labels")
        XCTAssertEqual(mismatches, 0)
        XCTAssertEqual(leftDigitsSeen.count, 10)
        XCTAssertEqual(rightDigitsSeen.count, 10)
        XCTAssertEqual(d.features.min(), 0)
        XCTAssertEqual(d.features.max(), 16)
        XCTAssertTrue(d.labels.values.allSatisfy { $0.presentCount == 600 })
    }

    func testDesignatedValidationRowsShareNoBaseImageWithTraining() throws {
        let digits = try BuiltinDataset.load(named: "digits")
        var lookup = [[Float]: Int]()
        for r in 0..<digits.rowCount { lookup[Array(digits.row(r))] = r }
        let d = try BuiltinDataset.load(named: "multidigits", options: ["rows": 1001, "seed": 11])
        XCTAssertEqual(d.validationRows, Array(801..<1001), "round(0.2 × 1001) = 200 rows, the last ones")

        // A fraction and seed that would give another split are ignored: the designated rows are the validation.
        let (train, validation) = try splitTrainValidation(d, validationFraction: 0.5, seed: 99)
        XCTAssertEqual(train.rowCount, 801)
        XCTAssertEqual(validation.rowCount, 200)
        XCTAssertEqual(train, d.subset(rows: Array(0..<801)))
        XCTAssertEqual(validation, d.subset(rows: Array(801..<1001)))
        XCTAssertNil(train.validationRows)

        func baseImages(of part: Dataset) -> Set<Int> {
            var used = Set<Int>()
            for row in 0..<part.rowCount {
                let image = Array(part.row(row))
                for offset in [0, 8] {
                    let half = (0..<8).flatMap { r in image[(r * 16 + offset)..<(r * 16 + offset + 8)] }
                    used.insert(lookup[half]!)
                }
            }
            return used
        }
        let trainImages = baseImages(of: train), validationImages = baseImages(of: validation)
        let shared = trainImages.intersection(validationImages)
        print("multidigits: \(trainImages.count) base images in training rows, \(validationImages.count) in "
              + "validation rows, \(shared.count) shared")
        XCTAssertEqual(shared.count, 0)
        XCTAssertLessThanOrEqual(validationImages.count, 359, "the held-out pool is round(0.2 × 1797) images")
        // k uniform draws from a pool of N reach N·(1 − e^(−k/N)) distinct images on average: 241 of the 359
        // held-out images for 400 draws, 966 of the 1438 others for 1602 draws.
        func expectedDistinct(draws: Double, pool: Double) -> Double { pool * (1 - exp(-draws / pool)) }
        XCTAssertEqual(Double(validationImages.count), expectedDistinct(draws: 400, pool: 359), accuracy: 20)
        XCTAssertEqual(Double(trainImages.count), expectedDistinct(draws: 1602, pool: 1438), accuracy: 40)
    }

    func testSameSeedSameDataOtherSeedOtherData() throws {
        let a = try BuiltinDataset.load(named: "multidigits", options: ["rows": 50, "seed": 5])
        let b = try BuiltinDataset.load(named: "multidigits", options: ["rows": 50, "seed": 5])
        let c = try BuiltinDataset.load(named: "multidigits", options: ["rows": 50, "seed": 6])
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.features, c.features)
        let tiny = try BuiltinDataset.load(named: "multidigits", options: ["rows": 2])
        XCTAssertEqual(tiny.validationRows, [], "round(0.2 × 2) = 0 validation rows")
    }

    func testBaseDataThatIsNotDigitsIsAnError() throws {
        let bad = try Dataset(rowCount: 2, featureCount: 64, features: [Float](repeating: 1, count: 128),
                              featureNames: (0..<64).map { "p\($0)" }, labels: ["digit": LabelColumn(values: [1, 12])])
        XCTAssertThrowsError(try MultiDigits.make(from: bad, rows: 10, seed: 0)) { error in
            XCTAssertEqual("\(error)", "column 'digit': multidigits needs a digit 0…9 on every base image")
        }
    }
}
