import CanopyModel
import Foundation

/// The datasets shipped inside Canopy, loaded by name (`source: builtin:digits` in a model file).
///
/// ## digits
/// The UCI optical handwritten digits (Alpaydin & Kaynak, 1998, CC BY 4.0; see `DIGITS-ATTRIBUTION.md`):
/// 1,797 images of 8 × 8 pixels. Features `p0` … `p63` are the pixels row by row, raw values 0 … 16 (scaling,
/// such as the model's `input.scale: 0.0625`, is applied by whoever batches the data). Five label columns, all
/// present on every row, give five tasks from one image:
///
/// | column   | kind                 | values                                                   |
/// |----------|----------------------|----------------------------------------------------------|
/// | `digit`  | 10-class             | the digit 0 … 9                                          |
/// | `parity` | 2-class              | `digit % 2` (0 even, 1 odd)                              |
/// | `large`  | binary               | 1 when `digit >= 5`, else 0                              |
/// | `value`  | regression           | the digit as a number 0 … 9 (the same label as `digit`, seen as a quantity: predicting 8 for a 9 costs less than predicting 0) |
/// | `ink`    | regression           | mean pixel value / 16, in [0, 1]                         |
///
/// `digits` takes no options.
///
/// ## multidigits
/// Two digits side by side (the MultiMNIST idea on the shipped digits); see ``MultiDigits``. Options `rows`
/// (default 5000) and `seed` (default 0). Carries a designated validation split (``Dataset/validationRows``).
///
/// ## synthetic-mmoe
/// Two regression tasks of controlled correlation, the generator of Ma et al. (KDD 2018, section 4.1); see
/// ``SyntheticMMoE``. Options `features` (default 100), `correlation` (default 0.5), `rows` (default 10000),
/// `seed` (default 0) and `noise` (default 0.01).
public enum BuiltinDataset {
    /// The names ``load(named:options:)`` accepts.
    public static let names = ["digits", "multidigits", "synthetic-mmoe"]

    /// Loads a builtin dataset with its default options.
    ///
    /// - Throws: ``DataError`` for an unknown name (listing the builtins), or if the bundled file is missing or
    ///   damaged (a packaging fault).
    public static func load(named name: String) throws -> Dataset {
        try load(named: name, options: [:])
    }

    /// Loads a builtin dataset with options (`data.options` in a model file).
    ///
    /// Each builtin documents the options it takes, their defaults and ranges; every option is a number.
    ///
    /// - Throws: ``DataError`` for an unknown name (listing the builtins), an option the builtin does not take
    ///   (with a suggestion), a value out of range, or a missing or damaged bundled file (a packaging fault).
    public static func load(named name: String, options: [String: Double]) throws -> Dataset {
        switch name {
        case "digits":
            _ = try BuiltinOptions(options, dataset: name, accepted: [])
            return try loadDigits()
        case "multidigits":
            let checked = try BuiltinOptions(options, dataset: name, accepted: ["rows", "seed"])
            let rows = try checked.integer("rows", default: 5000, in: 1...MultiDigits.maximumRows)
            return try MultiDigits.make(from: loadDigits(), rows: rows, seed: checked.seed())
        case "synthetic-mmoe":
            let checked = try BuiltinOptions(options, dataset: name,
                                             accepted: ["correlation", "features", "noise", "rows", "seed"])
            let generator = try SyntheticMMoE(
                features: checked.integer("features", default: 100, in: 2...SyntheticMMoE.maximumFeatures),
                correlation: checked.real("correlation", default: 0.5, in: -1...1),
                noiseVariance: checked.real("noise", default: 0.01, in: 0...1e6),
                seed: checked.seed())
            return try generator.makeDataset(rows: checked.integer("rows", default: 10000,
                                                                   in: 1...SyntheticMMoE.maximumRows))
        default:
            var message = "unknown builtin dataset '\(name)'"
            if let suggestion = closestName(to: name, among: names) { message += " (did you mean '\(suggestion)'?)" }
            message += "; the builtins are: \(names.joined(separator: ", "))"
            throw DataError(message: message)
        }
    }

    private static func loadDigits() throws -> Dataset {
        guard let url = Bundle.module.url(forResource: "digits", withExtension: "csv") else {
            throw DataError(file: "digits.csv", message: "the builtin digits data is missing from Canopy's resources")
        }
        let file = "digits.csv (builtin)"
        let input: InputFile
        do {
            input = try InputFile(url, kind: "a CSV file")
        } catch let problem as InputFile.Problem {
            throw DataError(file: file, message: "cannot read the builtin data: \(problem.message)")
        }
        let pixelCount = 64
        var features: [Float] = []
        features.reserveCapacity(1797 * pixelCount)
        var digit: [Float] = [], ink: [Float] = []
        var reader = try CSVReader(input, file: file)
        try reader.forEachRecord { fields in
            let line = fields.line
            guard fields.count == pixelCount + 1 else {
                throw DataError(file: file, line: line, message: "expected 65 fields, found \(fields.count)")
            }
            var total: Float = 0
            for j in 0..<pixelCount {
                guard let p = try parseNumericCell(fields[j], file: file, line: line, column: "p\(j)"),
                      p >= 0, p <= 16 else {
                    throw DataError(file: file, line: line, column: "p\(j)", message: "pixel is not a value 0…16")
                }
                features.append(p)
                total += p
            }
            guard let d = try parseNumericCell(fields[pixelCount], file: file, line: line, column: "digit"),
                  d >= 0, d <= 9, d == d.rounded() else {
                throw DataError(file: file, line: line, column: "digit", message: "label is not a digit 0…9")
            }
            digit.append(d)
            ink.append(total / Float(pixelCount) / 16)
        }
        let labels: [String: LabelColumn] = [
            "digit": LabelColumn(values: digit),
            "parity": LabelColumn(values: digit.map { Float(Int($0) % 2) }),
            "large": LabelColumn(values: digit.map { $0 >= 5 ? 1 : 0 }),
            "value": LabelColumn(values: digit),
            "ink": LabelColumn(values: ink),
        ]
        return Dataset(checkedRowCount: digit.count, featureCount: pixelCount, features: features,
                       featureNames: (0..<pixelCount).map { "p\($0)" }, labels: labels)
    }
}
