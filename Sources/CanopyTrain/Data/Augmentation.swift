import CanopyModel

/// Random flips and crops of image examples in training batches (`input.augment:`), done on the host.
///
/// Each real row of a batch, in order, draws from one ``SeededRandom`` seeded with the step's seed: a flip bit,
/// then a vertical and a horizontal crop offset in `0...2P`. The example is padded with `P` zeros on every side,
/// cut back to `H × W` at that offset, and mirrored left to right when the bit is set:
///
///     out[c][y][x] = in[c][y + dy − P][x' + dx − P]   (0 outside the image),  x' = flip ? W − 1 − x : x
///
/// The same seed gives the same batch, on every backend. The features are changed as the model sees them (after
/// `input.scale` or `input.normalize`), so the padding is 0 in that scale — the training mean under
/// `normalize: standard`.
///
/// Why on the host rather than as graph ops: it is a copy of `C·H·W` floats per example, a few microseconds per
/// batch against a convolutional step that costs milliseconds; it needs no kernels, gradients or backend
/// parity, and it cannot leak into evaluation, since only the trainer's batches pass through it.
public struct ImageAugmentation: Equatable, Sendable {
    /// Channels, height and width of one example.
    public let channels: Int, height: Int, width: Int
    /// Mirror left to right with probability ½.
    public let horizontalFlip: Bool
    /// The random crop's zero padding, P; 0 for no crop.
    public let cropPadding: Int

    /// The augmentation `spec` asks for, on examples of `shape` `[C, H, W]`; nil when it changes nothing.
    ///
    /// - Precondition: `shape` has three positive sizes and `cropPadding` is in `0...min(H, W)` (the model-file
    ///   decoder checks both).
    public init?(_ spec: AugmentSpec?, shape: [Int]) {
        guard let spec, !spec.isIdentity else { return nil }
        precondition(shape.count == 3 && shape.allSatisfy { $0 > 0 }, "ImageAugmentation: shape \(shape) is not [C, H, W]")
        precondition(spec.cropPadding >= 0 && spec.cropPadding <= min(shape[1], shape[2]),
                     "ImageAugmentation: padding \(spec.cropPadding) outside 0...min(H, W)")
        (channels, height, width) = (shape[0], shape[1], shape[2])
        horizontalFlip = spec.horizontalFlip
        cropPadding = spec.cropPadding
    }

    /// One example's random choices.
    public struct Draw: Equatable, Sendable {
        /// Mirrored left to right.
        public var flip: Bool
        /// The crop's offsets into the padded image, each in `0...2P`; `(P, P)` leaves the image in place.
        public var dy: Int, dx: Int
    }

    /// The choices for the `rows` examples after the first `skipping` of a batch augmented with `seed` (one
    /// process's rows of a data-parallel batch draw what one process with the whole batch draws for them).
    public func draws(rows: Int, seed: UInt64, skipping: Int = 0) -> [Draw] {
        var random = SeededRandom(seed: seed)
        func draw() -> Draw {
            let flip = random.next() & 1 == 1
            let dy = random.nextInt(below: 2 * cropPadding + 1), dx = random.nextInt(below: 2 * cropPadding + 1)
            return Draw(flip: horizontalFlip && flip, dy: dy, dx: dx)
        }
        for _ in 0..<max(0, skipping) { _ = draw() }
        return (0..<rows).map { _ in draw() }
    }

    /// Augments the first `rows` examples of `features` (row-major, `C·H·W` floats each) in place, as the rows
    /// after the first `skipping` of the batch (see ``draws(rows:seed:skipping:)``).
    ///
    /// - Precondition: `features` holds at least `rows` examples.
    public func apply(to features: inout [Float], rows: Int, seed: UInt64, skipping: Int = 0) {
        let size = channels * height * width
        precondition(features.count >= rows * size, "ImageAugmentation: \(features.count) floats for \(rows) rows")
        var scratch = [Float](repeating: 0, count: size)
        let p = cropPadding
        for (row, draw) in draws(rows: rows, seed: seed, skipping: skipping).enumerated() {
            if !draw.flip && draw.dy == p && draw.dx == p { continue }
            let base = row * size
            features.withUnsafeMutableBufferPointer { out in
                scratch.withUnsafeMutableBufferPointer { copy in
                    for k in 0..<size { copy[k] = out[base + k] }
                    for c in 0..<channels {
                        let plane = c * height * width
                        for y in 0..<height {
                            let sy = y + draw.dy - p
                            for x in 0..<width {
                                let sx = (draw.flip ? width - 1 - x : x) + draw.dx - p
                                let inside = sy >= 0 && sy < height && sx >= 0 && sx < width
                                out[base + plane + y * width + x] = inside ? copy[plane + sy * width + sx] : 0
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Batcher {
    /// Fills `batch` with batch number `index` of the current order, then augments its real rows with
    /// `augmentation` (when not nil) drawn from `seed` as the rows they are of the global batch (a shard's rows
    /// draw what they would in one process) — the trainer's hook; evaluation and prediction use
    /// ``fill(_:index:)`` and are never augmented.
    public func fill(_ batch: inout Batch, index: Int, augmentation: ImageAugmentation?, seed: UInt64) throws {
        try fill(&batch, index: index)
        let before = positions(ofBatch: index).lowerBound - globalPositions(ofBatch: index).lowerBound
        augmentation?.apply(to: &batch.features, rows: batch.realRowCount, seed: seed, skipping: before)
    }
}
