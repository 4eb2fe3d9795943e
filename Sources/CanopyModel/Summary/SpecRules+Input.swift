/// The rules of `input.text:` and `input.categorical:`.
extension SpecRules {
    /// Ranges, unique column names, and `input.shape` against the feature count when it is known before the data
    /// is read (always, unless a categorical column is one-hot: its width is its training category count, checked
    /// when the data is loaded).
    func checkEncodedInput() throws {
        let input = spec.input
        let numeric = input.columns ?? []
        var names = numeric.enumerated().map { ($1, "input.columns[\($0)]") }
        var expected = numeric.count
        var parts = ["\(numeric.count) numeric column\(numeric.count == 1 ? "" : "s")"]
        if let text = input.text {
            if text.vocabulary < 1 || text.vocabulary > ModelLimits.maxDimension {
                throw spec.error(at: "input.text.vocabulary", "vocabulary must be in 1...\(ModelLimits.maxDimension), "
                                    + "got \(text.vocabulary)")
            }
            if text.vectorizer == .tokens {
                if text.length < 1 || text.length > ModelLimits.maxDimension {
                    throw spec.error(at: "input.text.length", "length must be in 1...\(ModelLimits.maxDimension), "
                                        + "got \(text.length)")
                }
                if text.ngrams != 1...1 {
                    throw spec.error(at: "input.text.ngrams", "the tokens vectorizer gives word ids; ngrams must be "
                                        + "[1, 1]")
                }
                if text.vocabulary <= TextInputSpec.reservedTokenIDs {
                    throw spec.error(at: "input.text.vocabulary", "the tokens vectorizer's vocabulary counts its ids, "
                                        + "0 (padding) and 1 (unknown word) among them, so it must be at least 3, got "
                                        + "\(text.vocabulary)")
                }
                if let first = spec.shared.first, let embedding = first.kind.layer as? EmbeddingLayer,
                   embedding.vocabulary < text.vocabulary {
                    throw spec.error(at: "\(first.keyPath).embedding.vocabulary", "the embedding has "
                                        + "\(embedding.vocabulary) rows but input.text gives ids up to "
                                        + "\(text.vocabulary - 1); give both the same vocabulary")
                }
            }
            names.append((text.column, "input.text.column"))
            expected += text.featureCount
            parts.append("\(text.featureCount) from input.text (\(text.vectorizer.rawValue))")
        }
        var categoricalKnown = true
        if let categorical = input.categorical {
            if categorical.columns.isEmpty {
                throw spec.error(at: "input.categorical.columns", "name at least one categorical column")
            }
            names += categorical.columns.enumerated().map { ($1, "input.categorical.columns[\($0)]") }
            if categorical.encoding == .index {
                expected += categorical.columns.count
                parts.append("\(categorical.columns.count) categorical (index)")
            } else {
                categoricalKnown = false
            }
        }
        let ids = input.text?.vectorizer == .tokens ? "input.text" : input.categorical?.encoding == .index
            ? "input.categorical" : nil
        if let ids, input.normalize != .none || input.scale != 1 {
            let path = input.normalize != .none ? "input.normalize" : "input.scale"
            throw spec.error(at: path, "\(ids) gives ids (tokens or category indices) for an embedding; "
                                + "scaling or normalising them would change the ids, so leave out \(path)")
        }
        var seen = Set<String>()
        for (name, path) in names {
            if name.isEmpty { throw spec.error(at: path, "the column name is empty") }
            if !seen.insert(name).inserted {
                throw spec.error(at: path, "column '\(name)' is already an input (numeric, text and categorical "
                                    + "columns are each used once)")
            }
        }
        if categoricalKnown, expected != input.featureCount {
            throw spec.error(at: "input.shape", "input.shape \(ModelSummary.shape(input.shape)) holds "
                                + "\(input.featureCount) values but the inputs give \(expected): "
                                + parts.joined(separator: " + ") + "; write shape: [\(expected)]")
        }
    }
}
