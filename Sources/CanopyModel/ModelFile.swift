import Foundation

/// Reads model files (YAML or JSON) into a checked ``ModelSpec``.
///
/// ```swift
/// let spec = try ModelFile.load(contentsOf: URL(fileURLWithPath: "Examples/digits.yaml"))
/// print(try summarize(spec).render())
/// ```
/// Every problem is a ``ModelFileError`` naming the file, line, column and key path:
/// `digits.yaml:14:7: tasks.parity.head[0]: unknown layer 'dense2' (did you mean 'dense'?)`.
/// A spec that loads has passed ``summarize(_:)``: its shapes fit and its values are in range.
public enum ModelFile {
    /// The two syntaxes a model file can use.
    public enum Format: String, Sendable {
        case yaml, json

        /// `.json` is JSON, `.yaml`/`.yml` YAML; otherwise text whose first non-blank character is `{` or `[`
        /// is read as JSON and anything else as YAML.
        public static func detect(fileName: String, text: String) -> Format {
            switch (fileName as NSString).pathExtension.lowercased() {
            case "json": return .json
            case "yaml", "yml": return .yaml
            default:
                let first = text.unicodeScalars.first { !CharacterSet.whitespacesAndNewlines.contains($0) }
                return first == "{" || first == "[" ? .json : .yaml
            }
        }
    }

    /// Reads, parses and checks the model file at `url`; relative data paths are resolved against its directory.
    ///
    /// - Throws: ``ModelFileError`` when the file is missing, unreadable, larger than
    ///   ``ModelLimits/maxFileBytes``, not UTF-8, empty, or not a valid model.
    public static func load(contentsOf url: URL) throws -> ModelSpec {
        let fileName = url.lastPathComponent
        func failure(_ message: String) -> ModelFileError {
            ModelFileError(location: SourceLocation(file: fileName), keyPath: "", message: message)
        }
        let data: Data
        do {
            data = try InputFile(url, kind: "a model file").readAll(limit: ModelLimits.maxFileBytes)
        } catch let problem as InputFile.Problem {
            throw failure("cannot read the model file \(url.path): \(problem.message)")
        }
        var spec = try parse(data: data, fileName: fileName, baseDirectory: url.deletingLastPathComponent())
        spec.fileURL = url
        return spec
    }

    /// Parses and checks model-file bytes, which must be UTF-8 (a leading byte-order mark is skipped).
    public static func parse(data: Data, fileName: String, baseDirectory: URL?) throws -> ModelSpec {
        try parse(try decodeUTF8(data, fileName: fileName), fileName: fileName, baseDirectory: baseDirectory)
    }

    /// Parses and checks model-file text, YAML or JSON as ``Format/detect(fileName:text:)`` decides.
    ///
    /// - Parameters:
    ///   - text: The file's contents.
    ///   - fileName: The name errors give (usually the file's last path component); its extension picks the format.
    ///   - baseDirectory: The directory relative CSV paths are resolved against; nil means the working directory.
    public static func parse(_ text: String, fileName: String, baseDirectory: URL?) throws -> ModelSpec {
        func failure(_ message: String) -> ModelFileError {
            ModelFileError(location: SourceLocation(file: fileName), keyPath: "", message: message)
        }
        if text.utf8.count > ModelLimits.maxFileBytes { throw failure(tooLarge(text.utf8.count)) }
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        if text.allSatisfy(\.isWhitespace) { throw failure("the model file is empty") }
        let root: DocumentNode?
        switch Format.detect(fileName: fileName, text: text) {
        case .yaml: root = try YAMLReader(fileName: fileName).read(text)
        case .json:
            var reader = JSONReader(fileName: fileName)
            root = try reader.read(text)
        }
        guard let root else { throw failure("the model file is empty (it holds only comments)") }
        var spec = try SpecDecoder(fileName: fileName).modelSpec(root, baseDirectory: baseDirectory)
        spec.sourceText = text
        _ = try summarize(spec)
        return spec
    }

    private static func tooLarge(_ bytes: Int) -> String {
        "the model file is \(bytes) bytes, more than the limit of \(ModelLimits.maxFileBytes)"
    }

    /// `data` as a String, or an error naming the line and column of the first byte that is not UTF-8.
    static func decodeUTF8(_ data: Data, fileName: String) throws -> String {
        var parser = Unicode.UTF8.ForwardParser()
        var bytes = data.makeIterator()
        var (offset, line, column) = (0, 1, 1)
        while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid(let encoded):
                offset += encoded.count
                if Unicode.UTF8.decode(encoded) == "\n" { line += 1; column = 1 } else { column += 1 }
            case .emptyInput:
                return String(decoding: data, as: UTF8.self)
            case .error:
                throw ModelFileError(location: SourceLocation(file: fileName, line: line, column: column), keyPath: "",
                                     message: "the file is not valid UTF-8 (byte \(offset) cannot be decoded)")
            }
        }
    }
}

extension ModelSpec {
    /// A copy with `train.epochs` replaced (for `--epochs`); throws if `epochs` is out of range.
    public func with(epochs: Int) throws -> ModelSpec {
        try overriding("train.epochs") { $0.train.epochs = epochs }
    }

    /// A copy with `train.seed` replaced (for `--seed`).
    public func with(seed: UInt64) throws -> ModelSpec {
        try overriding("train.seed") { $0.train.seed = seed }
    }

    /// A copy with `train.batch_size` replaced (for `--batch-size`); throws if it is out of range.
    public func with(batchSize: Int) throws -> ModelSpec {
        try overriding("train.batch_size") { $0.train.batchSize = batchSize }
    }

    /// Applies `change`, marks `keyPath` as set on the command line, and checks the result.
    private func overriding(_ keyPath: String, _ change: (inout ModelSpec) -> Void) throws -> ModelSpec {
        var copy = self
        change(&copy)
        copy.locations[keyPath] = SourceLocation(file: "<command line>")
        _ = try summarize(copy)
        return copy
    }
}
