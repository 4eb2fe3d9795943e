/// The options given to one builtin dataset, checked against the names and ranges that builtin accepts.
///
/// Every option is a number (`data.options` in a model file). An unknown name is an error with a suggestion;
/// a value outside its range, or a fraction where an integer is needed, is an error naming the option.
struct BuiltinOptions {
    /// The builtin the options are for (for messages).
    let dataset: String
    private let values: [String: Double]

    /// Checks that every given option is one `dataset` accepts.
    ///
    /// - Throws: ``DataError`` naming the first unknown option (in sorted order), with a suggestion and the
    ///   accepted names.
    init(_ values: [String: Double], dataset: String, accepted: [String]) throws {
        for name in values.keys.sorted() where !accepted.contains(name) {
            var message = "unknown option '\(name)' for the builtin dataset '\(dataset)'"
            if let suggestion = closestName(to: name, among: accepted) { message += " (did you mean '\(suggestion)'?)" }
            message += accepted.isEmpty ? "; it takes no options" : "; its options are: \(accepted.joined(separator: ", "))"
            throw DataError(message: message)
        }
        self.dataset = dataset
        self.values = values
    }

    /// An integer option in `range`, or `defaultValue` when not given.
    ///
    /// - Throws: ``DataError`` when the value is not a whole number in `range`.
    func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let value = values[name] else { return defaultValue }
        // Int(exactly:) is nil rather than a trap for NaN, fractions and values beyond Int.
        guard let integer = Int(exactly: value), range.contains(integer) else {
            throw DataError(message: "option '\(name)' of the builtin dataset '\(dataset)' must be a whole "
                                + "number in \(range.lowerBound)…\(range.upperBound), got \(formatOption(value))")
        }
        return integer
    }

    /// A real option in `range`, or `defaultValue` when not given.
    ///
    /// - Throws: ``DataError`` when the value is not a finite number in `range`.
    func real(_ name: String, default defaultValue: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let value = values[name] else { return defaultValue }
        guard value.isFinite, range.contains(value) else {
            let bounds = "\(formatOption(range.lowerBound))…\(formatOption(range.upperBound))"
            throw DataError(message: "option '\(name)' of the builtin dataset '\(dataset)' must be a number "
                                + "in \(bounds), got \(formatOption(value))")
        }
        return value
    }

    /// The `seed` option: a whole number in 0 … 2⁵³ (the integers a `Double` holds exactly), default 0.
    func seed() throws -> UInt64 {
        UInt64(try integer("seed", default: 0, in: 0...(1 << 53)))
    }
}

/// A number as a person would write it in a model file: `1` rather than `1.0`, `0.25` as is.
private func formatOption(_ value: Double) -> String {
    if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
}
