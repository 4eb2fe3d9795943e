import XCTest
@testable import CanopyTrain
import CanopyCPU
import CanopyModel

/// The in-place split that loading uses gives exactly the rows, order and labels of ``splitTrainValidation``.
final class SplitInPlaceTests: XCTestCase {
    private func assertSameSplit(_ d: Dataset, fraction: Double, seed: UInt64,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let copied = try splitTrainValidation(d, validationFraction: fraction, seed: seed)
        var train = d
        let validation = try splitOffValidation(&train, validationFraction: fraction, seed: seed)
        XCTAssertEqual(train, copied.train, "training part", file: file, line: line)
        XCTAssertEqual(validation, copied.validation, "validation part", file: file, line: line)
        XCTAssertEqual(train.rowCount + validation.rowCount, d.rowCount, file: file, line: line)
    }

    func testRandomSplitsMatch() throws {
        var random = SeededRandom(seed: 4)
        let rows = 37, width = 3
        let features = (0..<(rows * width)).map(Float.init)
        let present = (0..<rows).map { _ in random.nextInt(below: 3) > 0 }
        let d = try Dataset(rowCount: rows, featureCount: width, features: features, featureNames: ["a", "b", "c"],
                            labels: ["y": LabelColumn(values: (0..<rows).map { Float($0 % 4) }, present: present),
                                     "z": LabelColumn(values: (0..<rows).map { Float($0) / 2 })])
        for (fraction, seed) in [(0.0, 1), (0.2, 1), (0.5, 9), (0.99, 3)] as [(Double, UInt64)] {
            try assertSameSplit(d, fraction: fraction, seed: seed)
        }
        let one = d.subset(rows: [5])
        try assertSameSplit(one, fraction: 0.5, seed: 1)
    }

    func testDesignatedSplitsMatch() throws {
        let d = try BuiltinDataset.load(named: "multidigits", options: ["rows": 300, "seed": 2])
        XCTAssertNotNil(d.validationRows)
        try assertSameSplit(d, fraction: 0.2, seed: 8)
    }

    func testBadFractionsAreRefusedInPlaceToo() throws {
        var d = try BuiltinDataset.load(named: "digits").subset(rows: [0, 1, 2])
        XCTAssertThrowsError(try splitOffValidation(&d, validationFraction: 1, seed: 0))
        XCTAssertThrowsError(try splitOffValidation(&d, validationFraction: .nan, seed: 0))
        XCTAssertEqual(d.rowCount, 3)
    }
}

/// `train.shuffle: false` keeps the training rows in file order every epoch.
final class FileOrderTests: XCTestCase {
    func testWithoutShufflingBatchesFollowTheFile() throws {
        let text = """
            name: order
            data: {source: builtin:digits, validation: 0.2, seed: 7}
            input: {shape: [64], scale: 0.0625}
            tasks:
              digit: {head: [{dense: 10}], loss: cross_entropy}
            train: {optimizer: adam, batch_size: 100, epochs: 2, shuffle: false}
            """
        let spec = try ModelFile.parse(text, fileName: "order.yaml", baseDirectory: nil)
        let trainer = try Trainer(spec: spec, backend: CPUBackend())
        for _ in 0..<2 {
            _ = try trainer.runEpoch()
            let rows = trainer.data.train.rowCount, last = trainer.batch.realRowCount
            XCTAssertEqual(Array(trainer.batch.sourceRows.prefix(last)), Array((rows - last)..<rows))
        }
        var shuffled = spec
        shuffled.train.shuffle = true
        let other = try Trainer(spec: shuffled, backend: CPUBackend())
        _ = try other.runEpoch()
        XCTAssertNotEqual(Array(other.batch.sourceRows.prefix(other.batch.realRowCount)),
                          Array((other.data.train.rowCount - other.batch.realRowCount)..<other.data.train.rowCount))
    }
}
