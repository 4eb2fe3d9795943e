import CanopyModel
import Foundation

/// The fitted text vectorizer and categorical encoder of a model whose `input:` has `text:` or `categorical:`.
///
/// It is fitted on the training rows only (``fitted(for:on:)``), turns any rows read with their raw columns into
/// the model's features (``apply(to:)``: numeric `columns:` first, then the text features, then the categorical
/// ones), and travels with the parameters: the safetensors metadata key `input_encoding` holds a JSON object
/// `{"text": {"column", "vectorizer", "terms", "idf"}, "categorical": {"columns", "encoding", "categories"}}`.
/// Metadata rather than a tensor because a vocabulary is strings, as class names are; the idf values are
/// written as JSON numbers of the Float widened to Double, which read back to the same Float.
public struct InputEncoding: Equatable, Sendable {
    /// The text column's vectorizer, or nil.
    public var text: TextVectorizer?
    /// The categorical columns' encoder, or nil.
    public var categorical: CategoricalEncoder?

    /// The metadata key.
    public static let key = "input_encoding"

    /// Creates an encoding from its parts.
    public init(text: TextVectorizer?, categorical: CategoricalEncoder?) {
        self.text = text
        self.categorical = categorical
    }

    /// The encoding `input` asks for, fitted on `train`'s raw columns; nil when `input` has neither text nor
    /// categorical columns.
    public static func fitted(for input: InputSpec, on train: Dataset) -> InputEncoding? {
        guard input.hasEncodedColumns else { return nil }
        let text = input.text.map { TextVectorizer.fitted($0, on: train.rawColumns[$0.column] ?? []) }
        let categorical = input.categorical.map { spec in
            CategoricalEncoder.fitted(spec, on: spec.columns.map { train.rawColumns[$0] ?? [] })
        }
        return InputEncoding(text: text, categorical: categorical)
    }

    /// The number of features each encoded row has beyond the numeric columns.
    public var featureCount: Int { (text?.spec.featureCount ?? 0) + (categorical?.featureCount ?? 0) }

    /// `dataset` with its raw columns turned into features after its numeric ones (and dropped).
    ///
    /// - Precondition: `dataset` was read with the text and categorical columns (a programming error otherwise).
    public func apply(to dataset: Dataset) -> Dataset {
        let numeric = dataset.featureCount, width = numeric + featureCount
        var features = [Float](repeating: 0, count: dataset.rowCount * width)
        let texts = text.map { dataset.rawColumns[$0.spec.column]! }
        let cells = categorical.map { encoder in encoder.spec.columns.map { dataset.rawColumns[$0]! } }
        let textWidth = text?.spec.featureCount ?? 0
        for r in 0..<dataset.rowCount {
            let base = r * width
            for j in 0..<numeric { features[base + j] = dataset.features[r * numeric + j] }
            if let text, let texts {
                text.features(texts[r], into: &features[(base + numeric)..<(base + numeric + textWidth)])
            }
            if let categorical, let cells {
                categorical.features(cells.map { $0[r] },
                                     into: &features[(base + numeric + textWidth)..<(base + width)])
            }
        }
        var result = dataset
        result.features = features
        result.featureCount = width
        result.featureNames = dataset.featureNames + (text?.featureNames ?? []) + (categorical?.featureNames ?? [])
        result.rawColumns = [:]
        return result
    }

    /// How the features are made up, for messages: `2 numeric + 500 text (tfidf) + 7 categorical (onehot)`.
    public func describe(numeric: Int) -> String {
        var parts = ["\(numeric) numeric"]
        if let text { parts.append("\(text.spec.featureCount) text (\(text.spec.vectorizer.rawValue))") }
        if let categorical {
            let counts = zip(categorical.spec.columns, categorical.categories).map { "\($0): \($1.count)" }
            parts.append("\(categorical.featureCount) categorical (\(categorical.spec.encoding.rawValue); "
                         + counts.joined(separator: ", ") + ")")
        }
        return parts.joined(separator: " + ")
    }

    /// The fitted vocabulary, idf and categories as metadata.
    public var metadata: [String: String] {
        var object: [String: Any] = [:]
        if let text {
            object["text"] = ["column": text.spec.column, "vectorizer": text.spec.vectorizer.rawValue,
                              "terms": text.terms, "idf": text.idf.map(Double.init)] as [String: Any]
        }
        if let categorical {
            object["categorical"] = ["columns": categorical.spec.columns,
                                     "encoding": categorical.spec.encoding.rawValue,
                                     "categories": categorical.categories] as [String: Any]
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return [:] }
        return [Self.key: text]
    }

    /// Reads the encoding a checkpoint or parameters file stored for `input`; nil when `input` has neither text
    /// nor categorical columns.
    ///
    /// - Throws: ``CheckpointError`` naming `file` when it is missing, malformed, or fitted for other columns or
    ///   another vectorizer than `input` names.
    public init?(metadata: [String: String], input: InputSpec, file: String) throws {
        guard input.hasEncodedColumns else { return nil }
        func problem(_ message: String) -> CheckpointError { CheckpointError(file: file, message: message) }
        guard let json = metadata[Self.key] else {
            throw problem("the model reads text or categorical inputs but the file has no '\(Self.key)' metadata "
                          + "(was it trained from another model file?)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw problem("metadata '\(Self.key)' is not a JSON object")
        }
        if let spec = input.text {
            guard let saved = object["text"] as? [String: Any], let terms = saved["terms"] as? [String],
                  let idf = saved["idf"] as? [Double], idf.count == terms.count, terms.count <= spec.vocabulary,
                  idf.allSatisfy(\.isFinite) else {
                throw problem("metadata '\(Self.key)' has no valid text vocabulary of at most \(spec.vocabulary) terms")
            }
            guard saved["column"] as? String == spec.column, saved["vectorizer"] as? String == spec.vectorizer.rawValue else {
                throw problem("its text vocabulary was fitted for column '\(saved["column"] ?? "?")' with "
                              + "\(saved["vectorizer"] ?? "?"); the model file reads '\(spec.column)' with "
                              + spec.vectorizer.rawValue)
            }
            text = TextVectorizer(spec: spec, terms: terms, idf: idf.map(Float.init))
        } else {
            text = nil
        }
        if let spec = input.categorical {
            guard let saved = object["categorical"] as? [String: Any],
                  let categories = saved["categories"] as? [[String]], categories.count == spec.columns.count else {
                throw problem("metadata '\(Self.key)' has no categories for \(spec.columns.count) columns")
            }
            guard saved["columns"] as? [String] == spec.columns, saved["encoding"] as? String == spec.encoding.rawValue else {
                throw problem("its categories were fitted for other categorical columns or another encoding than "
                              + "the model file's")
            }
            categorical = CategoricalEncoder(spec: spec, categories: categories)
        } else {
            categorical = nil
        }
    }
}
