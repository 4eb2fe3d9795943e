import Foundation

/// The `input:` section: what one example looks like.
public struct InputSpec: Equatable, Sendable {
    /// The per-example shape: `[features]` or `[channels, height, width]`.
    public var shape: [Int]
    /// A multiplier applied to the raw features (`scale:`); default 1.
    public var scale: Float
    /// For CSV data, the input columns in order (`columns:`); nil means every column that is not a task label.
    /// When present, its count equals the product of `shape`.
    public var columns: [String]?
    /// Where `shape:` is written, so a data loader can place a feature-count mismatch
    /// (``ModelSpec/location(of:)`` finds any other value).
    public var location: SourceLocation
    /// Per-feature normalisation fitted on the training rows (`normalize:`); it replaces `scale`.
    public var normalize: InputNormalization = .none
    /// A raw text column turned into features inside Canopy (`text:`), or nil. See ``TextInputSpec``.
    public var text: TextInputSpec?
    /// Categorical columns encoded as one-hot or index features (`categorical:`), or nil.
    public var categorical: CategoricalInputSpec?

    /// Whether features are derived from text or categories, so that `columns:` lists only the numeric columns
    /// (none when absent) and the feature count is known once the encodings are fitted.
    public var hasEncodedColumns: Bool { text != nil || categorical != nil }
    /// Random changes to training examples (`augment:`), for image inputs `[C, H, W]`; nil for none.
    public var augment: AugmentSpec?

    /// Creates an input section; by default features are used unscaled and, for CSV data, every non-label column.
    /// Values are not validated here.
    public init(shape: [Int], scale: Float = 1, columns: [String]? = nil,
                location: SourceLocation = SourceLocation(file: "<code>")) {
        self.shape = shape
        self.scale = scale
        self.columns = columns
        self.location = location
    }

    /// The number of scalars in one example (the product of `shape`).
    public var featureCount: Int { shape.reduce(1, *) }
}

/// `input.text:`: one raw text column turned into features, with a vocabulary fitted on the training rows.
///
/// Features come after the numeric `columns:` and before the categorical ones: `vocabulary` of them for
/// `tfidf` and `counts` (one per vocabulary entry, in vocabulary order; entries the training text could not fill
/// stay zero), `length` of them for `tokens`.
public struct TextInputSpec: Equatable, Sendable {
    /// The text column's name.
    public var column: String
    /// How text becomes features.
    public var vectorizer: TextVectorizerKind
    /// The most frequent n-grams kept (`vocabulary:`), at least 1.
    public var vocabulary: Int
    /// The smallest and largest n-gram length (`ngrams: [1, 2]`); default `[1, 1]`.
    public var ngrams: ClosedRange<Int>
    /// Whether text is lowercased before it is split into words (`lowercase:`); default true.
    public var lowercase: Bool
    /// For `tokens`: the ids per row (`length:`); 0 otherwise.
    public var length: Int

    /// Creates a text input; values are not validated here.
    public init(column: String, vectorizer: TextVectorizerKind, vocabulary: Int, ngrams: ClosedRange<Int> = 1...1,
                lowercase: Bool = true, length: Int = 0) {
        self.column = column
        self.vectorizer = vectorizer
        self.vocabulary = vocabulary
        self.ngrams = ngrams
        self.lowercase = lowercase
        self.length = length
    }

    /// The number of features the text gives each row.
    public var featureCount: Int { vectorizer == .tokens ? length : vocabulary }
    /// The ids `tokens` reserves below the words: 0 for padding, 1 for a word outside the vocabulary.
    public static let reservedTokenIDs = 2
    /// How many n-grams the vocabulary keeps: `vocabulary`, or for `tokens` the ids left after the reserved ones.
    public var termCount: Int { vectorizer == .tokens ? max(vocabulary - Self.reservedTokenIDs, 0) : vocabulary }
}

/// How a text column becomes features (`input.text.vectorizer:`).
public enum TextVectorizerKind: String, CaseIterable, Equatable, Sendable {
    /// TF-IDF with smooth IDF, rows L2-normalised (scikit-learn's `TfidfVectorizer` defaults).
    case tfidf
    /// How often each vocabulary n-gram occurs in the row (`CountVectorizer`).
    case counts
    /// Word ids in `0..<vocabulary`, `length` per row: 0 padding, 1 unknown, the `vocabulary − 2` most frequent words
    /// from 2 (for an `embedding` layer with the same `vocabulary`).
    case tokens
}

/// `input.categorical:`: columns whose cells are category names, with categories fitted on the training rows.
public struct CategoricalInputSpec: Equatable, Sendable {
    /// The columns, in the order their features come (after numeric and text features).
    public var columns: [String]
    /// How each column becomes features.
    public var encoding: CategoricalEncodingKind

    /// Creates a categorical input; values are not validated here.
    public init(columns: [String], encoding: CategoricalEncodingKind) {
        self.columns = columns
        self.encoding = encoding
    }
}

/// How a categorical column becomes features (`input.categorical.encoding:`).
public enum CategoricalEncodingKind: String, CaseIterable, Equatable, Sendable {
    /// One feature per training category (1 for the row's category, 0 elsewhere; an unknown category is all 0).
    case onehot
    /// One feature: 2 + the category's index among the training categories, 1 for an unknown category.
    case index
}

/// How input features are normalised (`input.normalize:`), with statistics from the training rows.
public enum InputNormalization: String, CaseIterable, Equatable, Sendable {
    /// Only `input.scale` multiplies the features.
    case none
    /// Zero mean and unit variance per feature.
    case standard
    /// The range [0, 1] per feature.
    case minmax
}
