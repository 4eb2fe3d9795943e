import Foundation

/// A place in a model file: the file's name and, when known, a 1-based line and column.
///
/// Columns count Unicode scalars, as libyaml does. A spec built in Swift code (not read from a file) has
/// `line == nil`, and its errors name only the file (often `"<code>"`).
public struct SourceLocation: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The file's name as it should appear in messages (usually the last path component).
    public var file: String
    /// The 1-based line, or nil when the place is the file as a whole.
    public var line: Int?
    /// The 1-based column in Unicode scalars, or nil when unknown.
    public var column: Int?

    /// Creates a place; leave out `line` (and `column`) when only the file is known.
    public init(file: String, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, `file:line` or `file`, whichever parts are known.
    public var description: String {
        guard let line else { return file }
        guard let column else { return "\(file):\(line)" }
        return "\(file):\(line):\(column)"
    }
}

/// A problem with a model file (or a spec built in code), with its place and key path.
///
/// Its description reads like a compiler diagnostic:
/// `digits.yaml:14:7: tasks.parity.head[0]: unknown layer 'dense2' (did you mean 'dense'?)`.
public struct ModelFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Where the problem is.
    public var location: SourceLocation
    /// The key path of the offending value, such as `tasks.parity.head[0]`; empty for the document as a whole.
    public var keyPath: String
    /// What is wrong, in one sentence without a trailing period.
    public var message: String

    /// Creates an error; `message` is one sentence without a trailing period.
    public init(location: SourceLocation, keyPath: String, message: String) {
        self.location = location
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        keyPath.isEmpty ? "\(location): \(message)" : "\(location): \(keyPath): \(message)"
    }
}

extension ModelFileError: LocalizedError {
    /// The same text as ``description``, for `localizedDescription`.
    public var errorDescription: String? { description }
}
