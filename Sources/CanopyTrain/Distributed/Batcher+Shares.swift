extension Batcher {
    /// The positions of the epoch's order that global batch `index` covers, all processes' shards together.
    func globalPositions(ofBatch index: Int) -> Range<Int> {
        let start = index * globalBatchSize
        return start..<min(start + globalBatchSize, dataset.rowCount)
    }

    /// Label column `column`'s weight over the positions `positions` of the epoch's order: how many of their rows
    /// have the label, or the sum of those labels' class weights when `classWeights` is given (what a task's
    /// masked mean divides by; see ``rowWeights(labels:mask:classWeights:into:)``).
    func labelledWeight(in positions: Range<Int>, column: Int, classWeights: [Float]?) -> Double {
        let label = dataset.labels[labelColumns[column]]!
        var total = 0.0
        for position in positions {
            let row = order[position]
            guard label.present[row] else { continue }
            if let classWeights {
                total += Double(classIndex(of: label.values[row], classCount: classWeights.count).map { classWeights[$0] } ?? 0)
            } else {
                total += 1
            }
        }
        return total
    }

    /// Each label column's share of global batch `index` that this process's shard holds, as the factor its loss
    /// seed takes so that the processes' gradients sum to the gradient of the whole batch's loss.
    ///
    /// A task's loss on a batch is its masked mean `S / max(n, 1)` over the `n` labelled rows (weights) of the
    /// batch. With the global batch's `N` split into shards holding `n_r`, shard `r`'s loss `S_r / max(n_r, 1)`
    /// times `max(n_r, 1) / max(N, 1)` is `S_r / max(N, 1)`, and these sum over the shards to the whole batch's
    /// loss, exactly, whatever labels are missing and however full the last batch is (0 for a shard without
    /// labels: its loss and gradient are 0). Every process computes every count from the shared epoch order, so
    /// no message is needed.
    func processShares(ofBatch index: Int, classWeights: [[Float]?]) -> [Float] {
        let local = positions(ofBatch: index), global = globalPositions(ofBatch: index)
        return labelColumns.indices.map { c in
            let weights = c < classWeights.count ? classWeights[c] : nil
            let own = labelledWeight(in: local, column: c, classWeights: weights)
            guard own > 0 else { return 0 }
            let all = labelledWeight(in: global, column: c, classWeights: weights)
            return Float(max(own, 1) / max(all, 1))
        }
    }
}
