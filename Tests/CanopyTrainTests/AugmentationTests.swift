@testable import CanopyTrain
import CanopyModel
import XCTest

/// Training-batch augmentation: exact flips and crops on a small image, determinism, and untouched
/// evaluation batches.
final class AugmentationTests: XCTestCase {
    /// One 2-channel 3×4 image whose values name their place: 100·c + 10·y + x.
    let image: [Float] = {
        var values: [Float] = []
        for c in 0..<2 { for y in 0..<3 { for x in 0..<4 { values.append(Float(100 * c + 10 * y + x)) } } }
        return values
    }()

    private func value(_ features: [Float], _ c: Int, _ y: Int, _ x: Int) -> Float { features[c * 12 + y * 4 + x] }

    func testEachDrawIsExactlyAFlipAndAPaddedCrop() {
        let augmentation = ImageAugmentation(AugmentSpec(horizontalFlip: true, cropPadding: 2), shape: [2, 3, 4])!
        var seenFlip = false, seenShift = false
        for seed in UInt64(0)..<40 {
            var features = image
            augmentation.apply(to: &features, rows: 1, seed: seed)
            let draw = augmentation.draws(rows: 1, seed: seed)[0]
            XCTAssertTrue((0...4).contains(draw.dy) && (0...4).contains(draw.dx))
            seenFlip = seenFlip || draw.flip
            seenShift = seenShift || draw.dy != 2 || draw.dx != 2
            for c in 0..<2 { for y in 0..<3 { for x in 0..<4 {
                let sy = y + draw.dy - 2, sx = (draw.flip ? 3 - x : x) + draw.dx - 2
                let expected: Float = (0..<3).contains(sy) && (0..<4).contains(sx) ? Float(100 * c + 10 * sy + sx) : 0
                XCTAssertEqual(value(features, c, y, x), expected, "seed \(seed) c\(c) y\(y) x\(x) \(draw)")
            } } }
        }
        XCTAssertTrue(seenFlip && seenShift)
    }

    func testAFlipOnlyMirrorsRowsAndRoughlyHalfTheExamples() {
        let augmentation = ImageAugmentation(AugmentSpec(horizontalFlip: true), shape: [2, 3, 4])!
        let rows = 200
        var features = Array([[Float]](repeating: image, count: rows).joined())
        augmentation.apply(to: &features, rows: rows, seed: 11)
        var flipped = 0
        for r in 0..<rows {
            let example = Array(features[(r * 24)..<((r + 1) * 24)])
            if example == image { continue }
            flipped += 1
            XCTAssertEqual(example[0..<4], [3, 2, 1, 0])   // channel 0, row 0 mirrored
            XCTAssertEqual(example[20..<24], [123, 122, 121, 120])
        }
        XCTAssertTrue((70...130).contains(flipped), "\(flipped) of \(rows) flipped")
        XCTAssertNil(ImageAugmentation(AugmentSpec(), shape: [2, 3, 4]))
        XCTAssertNil(ImageAugmentation(nil, shape: [2, 3, 4]))
    }

    func testTheSameSeedGivesTheSameBatchAndAnotherSeedAnother() {
        let augmentation = ImageAugmentation(AugmentSpec(horizontalFlip: true, cropPadding: 1), shape: [2, 3, 4])!
        let batch = Array([[Float]](repeating: image, count: 8).joined())
        var a = batch, b = batch, c = batch
        augmentation.apply(to: &a, rows: 8, seed: 5)
        augmentation.apply(to: &b, rows: 8, seed: 5)
        augmentation.apply(to: &c, rows: 8, seed: 6)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertNotEqual(a, batch)
    }

    func testOnlyTheTrainersFillAugmentsAndPaddingRowsStayZero() throws {
        let dataset = try Dataset(rowCount: 3, featureCount: 24, features: image + image + image,
                                  featureNames: (0..<24).map { "f\($0)" }, labels: ["t": LabelColumn(values: [0, 1, 0])])
        let batcher = try Batcher(dataset: dataset, batchSize: 4, labelColumns: ["t"])
        let augmentation = ImageAugmentation(AugmentSpec(horizontalFlip: true, cropPadding: 2), shape: [2, 3, 4])
        var plain = batcher.makeBatch(), augmented = batcher.makeBatch()
        try batcher.fill(&plain, index: 0)
        try batcher.fill(&augmented, index: 0, augmentation: augmentation, seed: 3)
        XCTAssertEqual(plain.features, image + image + image + [Float](repeating: 0, count: 24))
        XCTAssertNotEqual(augmented.features, plain.features)
        XCTAssertEqual(augmented.features[72...], [Float](repeating: 0, count: 24)[...])
        XCTAssertEqual(augmented.labels, plain.labels)
        XCTAssertEqual(augmented.masks, plain.masks)
        var again = batcher.makeBatch()
        try batcher.fill(&again, index: 0, augmentation: nil, seed: 3)
        XCTAssertEqual(again.features, plain.features)
    }
}
