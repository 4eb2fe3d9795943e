import XCTest
@testable import CanopyModel

/// A small valid model file; tests change one line of it and check the error. Line numbers are on the right.
let baseYAML = """
name: t
data:
  source: builtin:digits
input:
  shape: [1, 8, 8]
shared:
  - conv2d: {filters: 4, kernel: 3, padding: 1}
  - relu
  - maxpool: 2
  - flatten
  - dense: 16
tasks:
  digit: {head: [{dense: 10}], loss: cross_entropy}
  value: {head: [{dense: 1}], loss: mse}
train:
  optimizer: {adam: {lr: 0.01}}
  batch_size: 8
  epochs: 2
"""

/// `baseYAML` with `old` (which must occur exactly once) replaced by `new`.
func base(replacing old: String, with new: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    let parts = baseYAML.components(separatedBy: old)
    XCTAssertEqual(parts.count, 2, "'\(old)' should occur once in baseYAML", file: file, line: line)
    return parts.joined(separator: new)
}

/// Parses `text` as a model file named `fileName`.
func parseModel(_ text: String, fileName: String = "t.yaml") throws -> ModelSpec {
    try ModelFile.parse(text, fileName: fileName, baseDirectory: URL(fileURLWithPath: "/models"))
}

/// Asserts that parsing `text` throws a ModelFileError at `line` (and `column`, when given) with `keyPath`, whose
/// message contains every string in `phrases`; returns the error.
@discardableResult
func assertModelError(_ text: String, fileName: String = "t.yaml", line expectedLine: Int?, column: Int? = nil,
                      keyPath: String, _ phrases: String...,
                      file: StaticString = #filePath, line: UInt = #line) -> ModelFileError? {
    do {
        let spec = try parseModel(text, fileName: fileName)
        XCTFail("expected an error, got a spec named \(spec.name)", file: file, line: line)
        return nil
    } catch let error as ModelFileError {
        print("  error: \(error)")
        XCTAssertEqual(error.location.file, fileName, file: file, line: line)
        XCTAssertEqual(error.location.line, expectedLine, "\(error)", file: file, line: line)
        if let column { XCTAssertEqual(error.location.column, column, "\(error)", file: file, line: line) }
        XCTAssertEqual(error.keyPath, keyPath, "\(error)", file: file, line: line)
        for phrase in phrases {
            XCTAssertTrue(error.message.contains(phrase), "'\(error.message)' lacks '\(phrase)'", file: file, line: line)
        }
        return error
    } catch {
        XCTFail("expected a ModelFileError, got \(error)", file: file, line: line)
        return nil
    }
}

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
