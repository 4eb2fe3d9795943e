import Foundation
import XCTest

/// README.md's quick-start sample output stays what a real run prints: the test trains Examples/digits.yaml as the
/// quick start does (on the cpu backend, which `auto` chooses on machines like this one and whose numbers do not
/// depend on timing) and compares it with the README's block, line by line. `Scripts/readme-sample` regenerates
/// the block from a real run.
final class ReadmeSampleTests: ScratchTestCase {
    private static let readme = TestModels.examples.deletingLastPathComponent().appendingPathComponent("README.md")

    /// The lines between `<!-- sample: canopy train Examples/digits.yaml -->` and `<!-- end sample -->`.
    private func readmeSample() throws -> [String] {
        let text = try String(contentsOf: Self.readme, encoding: .utf8)
        guard let start = text.range(of: "<!-- sample: canopy train Examples/digits.yaml -->\n```\n"),
              let end = text.range(of: "\n```\n<!-- end sample -->", range: start.upperBound..<text.endIndex) else {
            XCTFail("README.md has no sample block")
            return []
        }
        return text[start.upperBound..<end.lowerBound].components(separatedBy: "\n")
    }

    func testReadmeSampleMatchesARealRun() throws {
        let sample = try readmeSample()
        XCTAssertGreaterThan(sample.count, 5)
        let result = try canopy("train", TestModels.examples.appendingPathComponent("digits.yaml").path,
                                "--backend", "cpu", "--out", "runs/digits-mtl")
        XCTAssertEqual(result.status, 0, result.stderr)
        let real = result.stdout.components(separatedBy: "\n").filter { !$0.isEmpty }
        var next = 0
        for (index, line) in sample.enumerated() {
            if line == "..." {       // the README leaves out the middle epochs: skip to the next line it shows
                guard index + 1 < sample.count else { break }
                let following = sample[index + 1]
                guard let found = real[next...].firstIndex(where: { Self.matches(following, $0) }) else {
                    return XCTFail("README line '\(following)' is not in the real output:\n\(result.stdout)")
                }
                next = found
                continue
            }
            guard next < real.count else {
                return XCTFail("README line '\(line)' is past the end of the real output:\n\(result.stdout)")
            }
            XCTAssertTrue(Self.matches(line, real[next]), "README line\n  \(line)\ndiffers from the real run's\n  \(real[next])")
            next += 1
        }
        XCTAssertEqual(next, real.count, "the real run prints lines the README leaves out:\n"
            + real[min(next, real.count)...].joined(separator: "\n"))
    }

    /// Whether a README line says what a real line says: the same words in the same columns; numbers equal to the
    /// printed precision (within 2 units of the last digit, for other SIMD widths); times (`[0.07 s]`) and the
    /// backend's measured choice (`backend: …`, which `auto` measures on each machine) are not compared.
    static func matches(_ readme: String, _ real: String) -> Bool {
        if readme.hasPrefix("backend:") { return real.hasPrefix("backend:") }
        let strip = { (line: String) in line.replacingOccurrences(of: #"\s*\[[0-9.]+ s\]$"#, with: "", options: .regularExpression) }
        let a = strip(readme), b = strip(real)
        let words = a.split(separator: " ", omittingEmptySubsequences: false)
        let others = b.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == others.count else { return false }
        for (x, y) in zip(words, others) where x != y {
            guard let u = Double(x), let v = Double(y), x.count == y.count else { return false }
            let decimals = x.split(separator: ".").dropFirst().first?.count ?? 0
            if abs(u - v) > 2 * pow(10, -Double(decimals)) + 1e-12 { return false }
        }
        return true
    }

    func testTheComparisonCatchesDrift() {
        let line = "epoch  1  digit   train loss 1.9747 acc 0.3408 f1 0.3287 | val loss 1.3057   [0.07 s]"
        XCTAssertTrue(Self.matches(line, line.replacingOccurrences(of: "[0.07 s]", with: "[12.50 s]")))
        XCTAssertTrue(Self.matches(line, line.replacingOccurrences(of: "1.9747", with: "1.9748")))
        XCTAssertFalse(Self.matches(line, line.replacingOccurrences(of: "1.9747", with: "1.9790")))
        XCTAssertFalse(Self.matches(line, line.replacingOccurrences(of: "acc", with: "accuracy")))
        XCTAssertFalse(Self.matches(line, line.replacingOccurrences(of: "digit   train", with: "digit train")))
        XCTAssertFalse(Self.matches("wrote a and b", "wrote a, b and c"))
    }
}
