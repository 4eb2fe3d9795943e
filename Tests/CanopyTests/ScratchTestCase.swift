import Canopy
import Foundation
import XCTest

/// A test case with its own scratch folder, the `canopy` executable and a small, fast model file to vary.
class ScratchTestCase: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-\(type(of: self))-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    /// Runs `canopy` in the scratch folder.
    func canopy(_ arguments: String..., environment: [String: String] = [:]) throws -> CommandResult {
        try runCanopy(arguments, in: scratch, environment: environment)
    }

    /// A two-task MLP on the builtin digits (one epoch takes a fraction of a second), as model-file text.
    /// `train` replaces the whole train section's inner text; `extra` adds top-level lines.
    static func smallModel(name: String = "small", data: String = "{source: builtin:digits, validation: 0.2, seed: 7}",
                           input: String = "{shape: [64], scale: 0.0625}",
                           train: String = "optimizer: {adam: {lr: 0.01}}, batch_size: 64, epochs: 2, seed: 1",
                           extra: String = "") -> String {
        """
        name: \(name)
        data: \(data)
        input: \(input)
        shared: [{dense: 16}, relu]
        tasks:
          digit: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy]}
          value: {head: [{dense: 1}], loss: mse, metrics: [mae], weight: 0.1}
        train: {\(train)}
        \(extra)
        """
    }

    /// Writes `text` to `<scratch>/<name>` and returns its path.
    @discardableResult
    func write(_ text: String, to name: String = "model.yaml") throws -> String {
        let url = scratch.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The path of a file in the scratch folder.
    func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    /// The metrics log's lines, each parsed as JSON (the test fails on a line that does not parse).
    func metricsLines(_ folder: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8)
        XCTAssertTrue(text.isEmpty || text.hasSuffix("\n"), "the log ends in half a line")
        return try text.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw XCTSkip("unreachable")
            }
            return object
        }
    }

    /// Asserts a command failed with status 1 and one `error:` message holding every expected text, no trace.
    func assertRefused(_ result: CommandResult, _ expected: String..., file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 1, "stdout: \(result.stdout)\nstderr: \(result.stderr)", file: file, line: line)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.hasPrefix("error: ") || $0.hasPrefix("Error: ") }.count, 1, result.stderr,
                       file: file, line: line)
        for text in expected {
            XCTAssertTrue(result.stderr.contains(text), "'\(text)' not in: \(result.stderr)", file: file, line: line)
        }
        XCTAssertFalse(result.stderr.contains("Fatal error") || result.stderr.contains("Backtrace"), result.stderr,
                       file: file, line: line)
    }
}
