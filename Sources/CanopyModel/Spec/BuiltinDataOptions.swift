/// One setting a built-in data set takes in `data.options:`, with its default and allowed range.
public struct BuiltinDataOption: Equatable, Sendable {
    /// The key under `data.options:` (`rows`, `seed`, `correlation`, ...).
    public var name: String
    /// The value when the model file does not give one.
    public var defaultValue: Double
    /// The values allowed (inclusive).
    public var range: ClosedRange<Double>
    /// Whether the value must be a whole number (`rows`, `features`, `seed`).
    public var isInteger: Bool
    /// What the option means, for messages and documentation.
    public var meaning: String

    /// Creates an option description; nothing checks that the default lies in `range`.
    public init(_ name: String, default defaultValue: Double, range: ClosedRange<Double>, isInteger: Bool,
                meaning: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.range = range
        self.isInteger = isInteger
        self.meaning = meaning
    }
}

extension DataSource {
    /// The largest seed a data option takes: 2^53, the largest integer a Double holds exactly.
    static let largestOptionSeed = Double(1 << 53)

    /// What each built-in data set takes in `data.options:`:
    /// - `digits`: nothing.
    /// - `multidigits` (two 8×8 digits side by side, tasks `left` and `right`): `rows` (default 5000,
    ///   1...200000), `seed` (default 0).
    /// - `synthetic-mmoe` (Ma et al.'s synthetic regression pair, labels `y1` and `y2`): `correlation` of the two
    ///   tasks (default 0.5, in [-1, 1]), `rows` (default 10000, 1...1000000), `features` (default 100,
    ///   2...10000), `seed` (default 0), `noise` (the label noise's variance, default 0.01, in [0, 10⁶]).
    public static let builtinOptions: [String: [BuiltinDataOption]] = [
        "digits": [],
        "multidigits": [
            BuiltinDataOption("rows", default: 5000, range: 1...200_000, isInteger: true,
                              meaning: "how many pairs of digits to compose"),
            BuiltinDataOption("seed", default: 0, range: 0...largestOptionSeed, isInteger: true,
                              meaning: "the seed that picks the pairs"),
        ],
        "synthetic-mmoe": [
            BuiltinDataOption("correlation", default: 0.5, range: -1...1, isInteger: false,
                              meaning: "the correlation of the two tasks"),
            BuiltinDataOption("rows", default: 10_000, range: 1...1_000_000, isInteger: true,
                              meaning: "how many examples to generate"),
            BuiltinDataOption("features", default: 100, range: 2...10_000, isInteger: true,
                              meaning: "the input width"),
            BuiltinDataOption("seed", default: 0, range: 0...largestOptionSeed, isInteger: true,
                              meaning: "the generator's seed"),
            BuiltinDataOption("noise", default: 0.01, range: 0...1e6, isInteger: false,
                              meaning: "the variance of the label noise"),
        ],
    ]

    /// The options this source takes: a built-in's list, or none for a CSV file.
    public var acceptedOptions: [BuiltinDataOption] {
        if case .builtin(let name) = self { return Self.builtinOptions[name] ?? [] }
        return []
    }
}

extension DataSpec {
    /// The value of `data.options.<name>`: as written, else the built-in's default; nil when the source does not
    /// take that option.
    ///
    /// ```swift
    /// let rows = Int(spec.data.option("rows") ?? 0)   // 5000 for builtin:multidigits without options
    /// ```
    public func option(_ name: String) -> Double? {
        if let value = options[name] { return value }
        return source.acceptedOptions.first { $0.name == name }?.defaultValue
    }
}
