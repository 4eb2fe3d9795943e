import CanopyModel

extension ModelData {
    /// Refuses data that an `embedding` reading the model's input would misread, before training starts: when the
    /// first shared layer is an embedding, every input value of every split must be a token id — a whole number in
    /// [0, vocabulary) — and the input must be neither scaled nor normalized (which would change the ids).
    ///
    /// The kernels never read outside the table whatever the data (an id without a row gives a zero row and no
    /// gradient); this check makes such data an error with its place rather than a silent zero.
    ///
    /// - Throws: a ``ModelFileError`` at the embedding layer naming the split, row, column and value.
    static func checkTokenIDs(_ data: ModelData, spec: ModelSpec) throws {
        guard let first = spec.shared.first, let embedding = first.kind.layer as? EmbeddingLayer else { return }
        let site = spec.location(of: first.keyPath)
        guard spec.input.scale == 1, spec.input.normalize == .none else {
            throw ModelFileError(location: site, keyPath: first.keyPath,
                                 message: "an embedding reads token ids: the input must not be scaled or normalized")
        }
        let splits = [("training", data.train), ("validation", data.validation)] + (data.test.map { [("test", $0)] } ?? [])
        for (split, rows) in splits {
            for (index, id) in rows.features.enumerated()
                where !(id >= 0 && id < Float(embedding.vocabulary) && id == id.rounded(.down)) {
                let row = index / max(rows.featureCount, 1), column = index % max(rows.featureCount, 1)
                let name = column < rows.featureNames.count ? rows.featureNames[column] : "\(column)"
                throw ModelFileError(location: site, keyPath: first.keyPath,
                                     message: "the \(split) data's row \(row + 1), column '\(name)', holds \(id), "
                                        + "not a token id in 0..<\(embedding.vocabulary) for the embedding")
            }
        }
    }
}
