import XCTest
@testable import CanopyTrain

/// Dataset construction, subsets and the builtin digits.
final class DatasetTests: XCTestCase {
    func testInitRejectsSizesThatDisagree() {
        XCTAssertThrowsError(try Dataset(rowCount: 2, featureCount: 2, features: [1, 2, 3], featureNames: ["a", "b"],
                                         labels: [:]))
        XCTAssertThrowsError(try Dataset(rowCount: 1, featureCount: 2, features: [1, 2], featureNames: ["a"],
                                         labels: [:]))
        XCTAssertThrowsError(try Dataset(rowCount: 1, featureCount: 1, features: [1], featureNames: ["a"],
                                         labels: ["y": LabelColumn(values: [1, 2])])) { error in
            XCTAssertEqual("\(error)", "column 'y': label column has 2 rows, dataset has 1")
        }
    }

    func testSubsetReordersFeaturesAndLabelsTogether() throws {
        let d = try Dataset(rowCount: 3, featureCount: 2, features: [0, 1, 10, 11, 20, 21], featureNames: ["a", "b"],
                            labels: ["y": LabelColumn(values: [5, 6, 7], present: [true, false, true])])
        let s = d.subset(rows: [2, 0, 2])
        XCTAssertEqual(s.rowCount, 3)
        XCTAssertEqual(s.features, [20, 21, 0, 1, 20, 21])
        XCTAssertEqual(s.labels["y"]!.values, [7, 5, 7])
        XCTAssertEqual(s.labels["y"]!.present, [true, true, true])
        let t = d.subset(rows: [1])
        XCTAssertEqual(t.labels["y"]!.values, [0], "a missing label is stored as 0")
        XCTAssertEqual(t.labels["y"]!.present, [false])
    }

    func testBuiltinDigitsHasTheDocumentedColumns() throws {
        let d = try BuiltinDataset.load(named: "digits")
        XCTAssertEqual(d.rowCount, 1797)
        XCTAssertEqual(d.featureCount, 64)
        XCTAssertEqual(d.featureNames.first, "p0")
        XCTAssertEqual(d.featureNames.last, "p63")
        XCTAssertEqual(d.labelNames, ["digit", "ink", "large", "parity", "value"])
        // The first row of digits.csv is a 0 with these first pixels and 294 units of ink.
        XCTAssertEqual(Array(d.row(0).prefix(6)), [0, 0, 5, 13, 9, 1])
        XCTAssertEqual(d.labels["digit"]!.values[0], 0)
        XCTAssertEqual(d.labels["digit"]!.values[1], 1)
        XCTAssertEqual(d.labels["ink"]!.values[0], 294 / 64 / 16, accuracy: 1e-6)
        XCTAssertEqual(d.features.max(), 16)
        XCTAssertEqual(d.features.min(), 0)
        for i in 0..<d.rowCount {
            let digit = d.labels["digit"]!.values[i]
            XCTAssertEqual(d.labels["parity"]!.values[i], Float(Int(digit) % 2))
            XCTAssertEqual(d.labels["large"]!.values[i], digit >= 5 ? 1 : 0)
            XCTAssertEqual(d.labels["value"]!.values[i], digit)
            let ink = d.row(i).reduce(0, +) / 64 / 16
            XCTAssertEqual(d.labels["ink"]!.values[i], ink, accuracy: 1e-6)
        }
        // Every class occurs (174 to 183 times in this data set).
        var counts = [Int](repeating: 0, count: 10)
        for v in d.labels["digit"]!.values { counts[Int(v)] += 1 }
        print("digit counts \(counts)")
        XCTAssertTrue(counts.allSatisfy { (174...183).contains($0) }, "\(counts)")
        XCTAssertTrue(d.labels.values.allSatisfy { $0.presentCount == 1797 })
    }

    func testUnknownBuiltinNamesTheBuiltins() {
        XCTAssertThrowsError(try BuiltinDataset.load(named: "digit")) { error in
            XCTAssertEqual("\(error)",
                           "unknown builtin dataset 'digit' (did you mean 'digits'?); the builtins are: digits, multidigits, synthetic-mmoe")
        }
        XCTAssertThrowsError(try BuiltinDataset.load(named: "mnist")) { error in
            XCTAssertEqual("\(error)", "unknown builtin dataset 'mnist'; the builtins are: digits, multidigits, synthetic-mmoe")
        }
    }

    func testEditDistance() {
        XCTAssertEqual(editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(editDistance("", "abc"), 3)
        XCTAssertEqual(closestName(to: "parityy", among: ["digit", "parity"]), "parity")
        XCTAssertNil(closestName(to: "zzzzzz", among: ["digit", "parity"]))
    }
}
