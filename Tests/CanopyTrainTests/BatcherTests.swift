import XCTest
@testable import CanopyTrain

/// Fixed-size batches: order, scaling, padding with mask 0, missing labels, and no allocation per batch.
final class BatcherTests: XCTestCase {
    /// Five rows; feature j of row i is 10·i + j; label `a` = i (missing on row 3), label `b` = 100 + i.
    private func fiveRows() throws -> Dataset {
        try Dataset(rowCount: 5, featureCount: 2, features: (0..<5).flatMap { [Float(10 * $0), Float(10 * $0 + 1)] },
                    featureNames: ["f0", "f1"],
                    labels: ["a": LabelColumn(values: [0, 1, 2, 3, 4], present: [true, true, true, false, true]),
                             "b": LabelColumn(values: [100, 101, 102, 103, 104])])
    }

    func testFileOrderBatchesWithPaddingAndMasks() throws {
        let batcher = try Batcher(dataset: try fiveRows(), batchSize: 2, labelColumns: ["b", "a"], featureScale: 0.5)
        XCTAssertEqual(batcher.batchCount, 3)
        var batch = batcher.makeBatch()
        try batcher.fill(&batch, index: 1)
        XCTAssertEqual(batch.realRowCount, 2)
        XCTAssertEqual(batch.features, [10, 10.5, 15, 15.5])
        XCTAssertEqual(batch.labels, [[102, 103], [2, 0]])
        XCTAssertEqual(batch.masks, [[1, 1], [1, 0]], "row 3 has no label a")
        XCTAssertEqual(batch.sourceRows, [2, 3])
        try batcher.fill(&batch, index: 2)
        XCTAssertEqual(batch.realRowCount, 1)
        XCTAssertEqual(batch.features, [20, 20.5, 0, 0], "the padding row is zeros")
        XCTAssertEqual(batch.labels, [[104, 0], [4, 0]])
        XCTAssertEqual(batch.masks, [[1, 0], [1, 0]], "the padding row has mask 0")
        XCTAssertEqual(batch.sourceRows, [4, -1])
        XCTAssertEqual(batch.labelIndex(of: "a"), 1)
    }

    func testShuffledEpochVisitsEveryRowOnceInThePermutationOrder() throws {
        let data = try fiveRows()
        var batcher = try Batcher(dataset: data, batchSize: 2, labelColumns: ["b"])
        batcher.shuffle(seed: 99)
        var reference = SeededRandom(seed: 99)
        XCTAssertEqual(batcher.order, reference.permutation(5))
        var batch = batcher.makeBatch()
        var seen = [Int]()
        for index in 0..<batcher.batchCount {
            try batcher.fill(&batch, index: index)
            for r in 0..<batch.realRowCount {
                let row = batch.sourceRows[r]
                seen.append(row)
                XCTAssertEqual(batch.features[2 * r], Float(10 * row))
                XCTAssertEqual(batch.labels[0][r], Float(100 + row))
            }
        }
        XCTAssertEqual(seen, batcher.order)
        batcher.shuffle(seed: 100)
        XCTAssertNotEqual(batcher.order, seen)
        batcher.resetOrder()
        XCTAssertEqual(batcher.order, [0, 1, 2, 3, 4])
    }

    func testFillingReusesTheCallersStorage() throws {
        let digits = try BuiltinDataset.load(named: "digits")
        var batcher = try Batcher(dataset: digits, batchSize: 64, labelColumns: ["digit", "parity"],
                                  featureScale: 0.0625)
        batcher.shuffle(seed: 1)
        var batch = batcher.makeBatch()
        let featureStorage = batch.features.withUnsafeBufferPointer { $0.baseAddress }
        let labelStorage = batch.labels[1].withUnsafeBufferPointer { $0.baseAddress }
        var maximum: Float = 0
        for index in 0..<batcher.batchCount {
            try batcher.fill(&batch, index: index)
            maximum = max(maximum, batch.features.max()!)
        }
        XCTAssertEqual(batch.features.withUnsafeBufferPointer { $0.baseAddress }, featureStorage)
        XCTAssertEqual(batch.labels[1].withUnsafeBufferPointer { $0.baseAddress }, labelStorage)
        XCTAssertEqual(batcher.batchCount, 29)
        XCTAssertEqual(batch.realRowCount, 1797 - 28 * 64)
        XCTAssertEqual(maximum, 1, "pixels 0…16 scaled by 1/16")
    }

    func testErrors() throws {
        let data = try fiveRows()
        XCTAssertThrowsError(try Batcher(dataset: data, batchSize: 0, labelColumns: []))
        XCTAssertThrowsError(try Batcher(dataset: data, batchSize: 2, labelColumns: ["bb"])) { error in
            XCTAssertEqual("\(error)", "column 'bb': the dataset has no label column 'bb' (did you mean 'b'?); it has: a, b")
        }
        let batcher = try Batcher(dataset: data, batchSize: 2, labelColumns: ["a"])
        var batch = batcher.makeBatch()
        XCTAssertThrowsError(try batcher.fill(&batch, index: 3))
        var wrong = Batch(batchSize: 3, featureCount: 2, labelColumns: ["a"])
        XCTAssertThrowsError(try batcher.fill(&wrong, index: 0))
    }
}
