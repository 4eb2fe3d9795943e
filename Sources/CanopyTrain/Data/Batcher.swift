/// One fixed-size batch of rows, owned by the caller and refilled in place by a ``Batcher``.
///
/// Every batch has exactly `batchSize` rows so that a planned graph sees one shape. When fewer rows are left
/// (the last batch of an epoch), rows `realRowCount ..< batchSize` are padding: all-zero features, label 0 and
/// mask 0, so they add nothing to a masked loss or metric.
public struct Batch: Sendable {
    /// Rows per batch, B.
    public let batchSize: Int
    /// Features per row, F.
    public let featureCount: Int
    /// The label columns carried, in the order of ``labels`` and ``masks``.
    public let labelColumns: [String]
    /// Scaled features, row-major `B × F`.
    public var features: [Float]
    /// Per label column, `B` label values (class indices as floats, or regression targets); 0 where missing.
    public var labels: [[Float]]
    /// Per label column, `B` mask values: 1 where the row has this label, 0 where it is missing or padding.
    public var masks: [[Float]]
    /// Per row, the dataset row it came from, or -1 for padding.
    public var sourceRows: [Int]
    /// The number of rows that are real (the rest are padding).
    public var realRowCount: Int
    /// Per row, 1 when it is real and 0 when it is padding (what batch normalization's statistics count).
    public var realRows: [Float]

    /// Makes a zero-filled batch of the given size.
    public init(batchSize: Int, featureCount: Int, labelColumns: [String]) {
        self.batchSize = batchSize
        self.featureCount = featureCount
        self.labelColumns = labelColumns
        features = [Float](repeating: 0, count: batchSize * featureCount)
        labels = labelColumns.map { _ in [Float](repeating: 0, count: batchSize) }
        masks = labelColumns.map { _ in [Float](repeating: 0, count: batchSize) }
        sourceRows = [Int](repeating: -1, count: batchSize)
        realRowCount = 0
        realRows = [Float](repeating: 0, count: batchSize)
    }

    /// The position of a label column in ``labels`` and ``masks``, or `nil` if this batch does not carry it.
    public func labelIndex(of column: String) -> Int? { labelColumns.firstIndex(of: column) }
}

/// Cuts a dataset into fixed-size batches, in a seeded shuffled order or in file order.
///
/// ```swift
/// var batcher = try Batcher(dataset: train, batchSize: 64, labelColumns: ["digit", "parity"], featureScale: 0.0625)
/// var batch = batcher.makeBatch()
/// for epoch in 0..<epochs {
///     batcher.shuffle(seed: seed &+ UInt64(epoch))
///     for b in 0..<batcher.batchCount {
///         try batcher.fill(&batch, index: b)     // no allocation
///         // upload batch.features, batch.labels[k], batch.masks[k]
///     }
/// }
/// ```
/// There are `⌈rowCount / batchSize⌉` batches; only the last may be partial (see ``Batch``). Filling writes
/// into the caller's arrays and never allocates once they have the right sizes.
public struct Batcher: Sendable {
    /// The rows batched.
    public let dataset: Dataset
    /// Rows per batch, B ≥ 1.
    public let batchSize: Int
    /// The label columns copied into each batch, in order.
    public let labelColumns: [String]
    /// The map applied to every feature as it is copied (`input.scale`, or a fitted normalisation).
    public let transform: FeatureTransform
    /// The dataset row of each position in the epoch. Starts in file order.
    public private(set) var order: [Int]
    /// Rows in one global batch: ``batchSize`` unless ``sharded(_:)`` shares batches between processes.
    public private(set) var globalBatchSize: Int
    /// Which run of ``batchSize`` positions of each global batch this batcher fills (see ``sharded(_:)``).
    private var shardIndex = 0
    private let columns: [LabelColumn]

    /// Makes a batcher over `dataset`, starting in file order.
    ///
    /// - Throws: ``DataError`` when `batchSize < 1`, the scale is not finite, or a label column is not in the
    ///   dataset (with a suggestion).
    public init(dataset: Dataset, batchSize: Int, labelColumns: [String], featureScale: Float = 1) throws {
        guard featureScale.isFinite else {
            throw DataError(message: "feature scale must be a finite number, got \(featureScale)")
        }
        try self.init(dataset: dataset, batchSize: batchSize, labelColumns: labelColumns,
                      transform: .scaling(featureScale, count: dataset.featureCount))
    }

    /// Makes a batcher whose features go through `transform` (one offset and factor per feature).
    public init(dataset: Dataset, batchSize: Int, labelColumns: [String], transform: FeatureTransform) throws {
        guard batchSize >= 1 else { throw DataError(message: "batch size must be at least 1, got \(batchSize)") }
        guard transform.offset.count == dataset.featureCount, transform.factor.count == dataset.featureCount else {
            throw DataError(message: "the feature transform has \(transform.offset.count) offsets and "
                                + "\(transform.factor.count) factors for \(dataset.featureCount) features")
        }
        columns = try labelColumns.map { name in
            guard let column = dataset.labels[name] else {
                var message = "the dataset has no label column '\(name)'"
                if let s = closestName(to: name, among: dataset.labelNames) { message += " (did you mean '\(s)'?)" }
                message += "; it has: \(dataset.labelNames.joined(separator: ", "))"
                throw DataError(column: name, message: message)
            }
            return column
        }
        self.dataset = dataset
        self.batchSize = batchSize
        globalBatchSize = batchSize
        self.labelColumns = labelColumns
        self.transform = transform
        self.order = Array(0..<dataset.rowCount)
    }

    /// One process's share of every batch in data-parallel training. A global batch is `globalBatchSize`
    /// consecutive positions of the epoch's order; process `index` of `count` takes the `index`-th run of
    /// ``Batcher/batchSize`` positions of it (the last processes' runs may be shorter, or empty, and are padded).
    public struct Shard: Sendable, Equatable {
        /// This process's place among the processes, `0..<count`.
        public var index: Int
        /// How many processes share each batch.
        public var count: Int
        /// Rows in one global batch, shared by all the processes.
        public var globalBatchSize: Int

        /// Shard `index` of `count` of global batches of `globalBatchSize` rows.
        public init(index: Int, count: Int, globalBatchSize: Int) {
            self.index = index; self.count = count; self.globalBatchSize = globalBatchSize
        }

        /// Rows each process's batch holds: `⌈globalBatchSize / count⌉`.
        public static func rowsPerProcess(globalBatchSize: Int, count: Int) -> Int {
            (globalBatchSize + count - 1) / max(count, 1)
        }
    }

    /// This batcher filling only its shard of every global batch: every process shuffles the same order (same
    /// seed) and takes its own positions of each global batch, so the processes together see exactly the rows, in
    /// exactly the batches, that one process with `globalBatchSize`-row batches sees. ``batchCount`` stays
    /// `⌈rowCount / globalBatchSize⌉`.
    ///
    /// - Throws: ``DataError`` when the shard is not `0 ≤ index < count`, or the shards of `count` batches of
    ///   ``batchSize`` rows do not cover a global batch.
    public func sharded(_ shard: Shard) throws -> Batcher {
        guard shard.count >= 1, (0..<shard.count).contains(shard.index) else {
            throw DataError(message: "shard \(shard.index) of \(shard.count) does not exist")
        }
        guard shard.globalBatchSize >= 1, batchSize * shard.count >= shard.globalBatchSize else {
            throw DataError(message: "\(shard.count) batches of \(batchSize) rows cannot hold a global batch of "
                                + "\(shard.globalBatchSize) rows")
        }
        var copy = self
        copy.globalBatchSize = shard.globalBatchSize
        copy.shardIndex = shard.index
        return copy
    }

    /// The number of batches in one pass over the dataset, `⌈rowCount / globalBatchSize⌉`.
    public var batchCount: Int { (dataset.rowCount + globalBatchSize - 1) / globalBatchSize }

    /// The positions of the epoch's order that batch `index` of this batcher's shard fills.
    func positions(ofBatch index: Int) -> Range<Int> {
        let globalStart = index * globalBatchSize
        let globalEnd = min(globalStart + globalBatchSize, dataset.rowCount)
        let start = min(globalStart + shardIndex * batchSize, globalEnd)
        return start..<min(start + batchSize, globalEnd)
    }

    /// Sets a new row order for an epoch: the same as `SeededRandom(seed: seed).permutation(rowCount)`.
    ///
    /// Use a different seed per epoch (for example `runSeed &+ UInt64(epoch)`) for a different order each epoch
    /// that is still reproducible. Reuses the order's storage.
    public mutating func shuffle(seed: UInt64) {
        resetOrder()
        var random = SeededRandom(seed: seed)
        random.shuffle(&order)
    }

    /// Goes back to file order (for evaluation and prediction).
    public mutating func resetOrder() {
        for i in order.indices { order[i] = i }
    }

    /// A batch of the right sizes for ``fill(_:index:)``.
    public func makeBatch() -> Batch {
        Batch(batchSize: batchSize, featureCount: dataset.featureCount, labelColumns: labelColumns)
    }

    /// Fills `batch` with batch number `index` of the current order.
    ///
    /// - Throws: ``DataError`` when `index` is outside `0..<batchCount` or `batch` was not made for this batcher.
    public func fill(_ batch: inout Batch, index: Int) throws {
        guard batch.batchSize == batchSize, batch.featureCount == dataset.featureCount,
              batch.labelColumns == labelColumns else {
            throw DataError(message: "batch of \(batch.batchSize) × \(batch.featureCount) with labels "
                                + "\(batch.labelColumns) does not fit this batcher (\(batchSize) × "
                                + "\(dataset.featureCount), labels \(labelColumns)); make it with makeBatch()")
        }
        batch.realRowCount = try fill(index: index, features: &batch.features, labels: &batch.labels,
                                      masks: &batch.masks, sourceRows: &batch.sourceRows)
        for r in 0..<batchSize { batch.realRows[r] = r < batch.realRowCount ? 1 : 0 }
    }

    /// Fills caller-provided arrays with batch number `index` of the current order; returns the real row count.
    ///
    /// - Parameters:
    ///   - features: `batchSize × featureCount` floats, overwritten with scaled features (zeros for padding).
    ///   - labels: one array of `batchSize` floats per label column, in ``labelColumns`` order.
    ///   - masks: one array of `batchSize` floats per label column: 1 where present, 0 where missing or padding.
    ///   - sourceRows: `batchSize` ints, the dataset row of each position or -1 for padding.
    /// - Throws: ``DataError`` when `index` is out of range or an array has the wrong size.
    @discardableResult
    public func fill(index: Int, features: inout [Float], labels: inout [[Float]], masks: inout [[Float]],
                     sourceRows: inout [Int]) throws -> Int {
        guard index >= 0, index < batchCount else {
            throw DataError(message: "batch index \(index) is outside 0..<\(batchCount)")
        }
        let f = dataset.featureCount
        guard features.count == batchSize * f, sourceRows.count == batchSize,
              labels.count == columns.count, masks.count == columns.count,
              labels.allSatisfy({ $0.count == batchSize }), masks.allSatisfy({ $0.count == batchSize }) else {
            throw DataError(message: "batch arrays have the wrong sizes: expected features \(batchSize * f), "
                                + "\(columns.count) label and mask arrays of \(batchSize), sourceRows \(batchSize)")
        }
        let positions = self.positions(ofBatch: index)
        let start = positions.lowerBound, real = positions.count
        features.withUnsafeMutableBufferPointer { out in
            dataset.features.withUnsafeBufferPointer { source in
                transform.offset.withUnsafeBufferPointer { offset in
                    transform.factor.withUnsafeBufferPointer { factor in
                        for r in 0..<real {
                            let from = order[start + r] * f, to = r * f
                            for j in 0..<f { out[to + j] = (source[from + j] - offset[j]) * factor[j] }
                        }
                    }
                }
                for k in (real * f)..<(batchSize * f) { out[k] = 0 }
            }
        }
        for r in 0..<batchSize { sourceRows[r] = r < real ? order[start + r] : -1 }
        for (c, column) in columns.enumerated() {
            labels[c].withUnsafeMutableBufferPointer { values in
                masks[c].withUnsafeMutableBufferPointer { mask in
                    for r in 0..<batchSize {
                        if r < real {
                            let row = order[start + r]
                            values[r] = column.values[row]
                            mask[r] = column.present[row] ? 1 : 0
                        } else {
                            values[r] = 0
                            mask[r] = 0
                        }
                    }
                }
            }
        }
        return real
    }
}
