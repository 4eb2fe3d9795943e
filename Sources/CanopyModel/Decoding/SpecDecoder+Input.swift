/// Decoding of `input.text:` and `input.categorical:` (ranges are checked by ``SpecRules``).
extension SpecDecoder {
    /// `text: {column: review, vectorizer: tfidf, vocabulary: 2000, ngrams: [1, 2], lowercase: true, length: 64}`.
    func textInput(_ node: DocumentNode) throws -> TextInputSpec {
        let path = "input.text"
        let f = try fields(node, path, allowed: ["column", "vectorizer", "vocabulary", "ngrams", "lowercase", "length"],
                           what: "a mapping such as {column: review, vectorizer: tfidf, vocabulary: 2000}")
        let column = try string(try f.required("column"), "\(path).column")
        let kind = TextVectorizerKind(rawValue: try word(try f.required("vectorizer"), "\(path).vectorizer",
                                                         among: TextVectorizerKind.allCases.map(\.rawValue),
                                                         what: "vectorizer"))!
        let vocabulary = try int(try f.required("vocabulary"), "\(path).vocabulary")
        var ngrams = 1...1
        if let node = f.optional("ngrams") {
            let sizes = try list(node, "\(path).ngrams", of: "two n-gram lengths such as [1, 2]")
            guard sizes.count == 2 else {
                throw error(node, "\(path).ngrams", "expected two n-gram lengths [smallest, largest] such as [1, 2], "
                                + "found \(sizes.count)")
            }
            let low = try int(sizes[0], "\(path).ngrams[0]"), high = try int(sizes[1], "\(path).ngrams[1]")
            guard low >= 1, high >= low, high <= 5 else {
                throw error(node, "\(path).ngrams", "n-gram lengths must satisfy 1 ≤ smallest ≤ largest ≤ 5, "
                                + "got [\(low), \(high)]")
            }
            ngrams = low...high
        }
        let lowercase = try f.optional("lowercase").map { try bool($0, "\(path).lowercase") } ?? true
        var length = 0
        if let node = f.optional("length") {
            guard kind == .tokens else {
                throw error(node, "\(path).length", "length is for the tokens vectorizer; \(kind.rawValue) gives one "
                                + "feature per vocabulary entry")
            }
            length = try int(node, "\(path).length")
        } else if kind == .tokens {
            throw error(node, path, "the tokens vectorizer needs length: the number of ids per row, such as 64")
        }
        return TextInputSpec(column: column, vectorizer: kind, vocabulary: vocabulary, ngrams: ngrams,
                             lowercase: lowercase, length: length)
    }

    /// `categorical: {columns: [color, city], encoding: onehot}` (encoding defaults to onehot).
    func categoricalInput(_ node: DocumentNode) throws -> CategoricalInputSpec {
        let path = "input.categorical"
        let f = try fields(node, path, allowed: ["columns", "encoding"],
                           what: "a mapping such as {columns: [color, city], encoding: onehot}")
        let columns = try list(try f.required("columns"), "\(path).columns", of: "column names").enumerated().map {
            try string($1, "\(path).columns[\($0)]")
        }
        let encoding = try f.optional("encoding").map {
            CategoricalEncodingKind(rawValue: try word($0, "\(path).encoding",
                                                       among: CategoricalEncodingKind.allCases.map(\.rawValue),
                                                       what: "encoding"))!
        } ?? .onehot
        return CategoricalInputSpec(columns: columns, encoding: encoding)
    }
}
