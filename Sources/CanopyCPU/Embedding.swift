import CanopyCore

// Embedding lookup and its sparse gradient: y [tokens, dim] from weight [vocabulary, dim]; dWeight gathers dy at
// the rows the ids used.

extension CPUBackend {
    /// The table row of `id`, or nil for an id that is not a whole number in [0, vocabulary) or is `padding`:
    /// such tokens read nothing and receive no gradient.
    @inline(__always)
    static func embeddingRow(_ id: Float, vocabulary: Int, padding: Int) -> Int? {
        guard id >= 0, id < Float(vocabulary), id == id.rounded(.down) else { return nil }
        let row = Int(id)
        return row == padding ? nil : row
    }

    /// `y[t, :] = weight[ids[t], :]`, or zeros for an invalid or padding id.
    func embedding(ids: DeviceBuffer, weight: DeviceBuffer, y: DeviceBuffer, tokens: Int, vocabulary: Int, dim: Int,
                   padding: Int) throws {
        let ids = reading(ids), weight = reading(weight), y = writing(y)
        parallelRows(rows: tokens, rowCost: dim) { range in
            for t in range {
                let yt = y + t * dim
                if let row = CPUBackend.embeddingRow(ids[t], vocabulary: vocabulary, padding: padding) {
                    yt.update(from: weight + row * dim, count: dim)
                } else {
                    yt.update(repeating: 0, count: dim)
                }
            }
        }
    }

    /// `dWeight[v, :] = Σ_{t: ids[t] = v} dy[t, :]` in increasing t: the table is zeroed, then each token adds
    /// its row of dy (O(vocabulary·dim) to zero plus O(tokens·dim) to scatter, one thread, so the order is fixed).
    func embeddingBackward(ids: DeviceBuffer, dy: DeviceBuffer, dWeight: DeviceBuffer, tokens: Int, vocabulary: Int,
                           dim: Int, padding: Int) throws {
        let ids = reading(ids), dy = reading(dy), dWeight = writing(dWeight)
        dWeight.update(repeating: 0, count: vocabulary * dim)
        for t in 0..<tokens {
            guard let row = CPUBackend.embeddingRow(ids[t], vocabulary: vocabulary, padding: padding) else { continue }
            let target = dWeight + row * dim, source = dy + t * dim
            for d in 0..<dim { target[d] += source[d] }
        }
    }
}
