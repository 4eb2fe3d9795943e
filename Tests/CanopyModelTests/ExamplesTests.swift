import XCTest
@testable import CanopyModel

/// Every model file shipped in Examples/ loads and summarizes.
final class ExamplesTests: XCTestCase {
    func testEveryExampleLoads() throws {
        let examples = repositoryRoot.appendingPathComponent("Examples")
        let files = try FileManager.default.contentsOfDirectory(at: examples, includingPropertiesForKeys: nil)
            .filter { ["yaml", "yml", "json"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        XCTAssertGreaterThanOrEqual(files.count, 3, "examples in \(examples.path)")
        for file in files {
            do {
                let summary = try summarize(try ModelFile.load(contentsOf: file))
                print("\(file.lastPathComponent): \(summary.totalParameterCount) parameters")
                XCTAssertGreaterThan(summary.totalParameterCount, 0)
            } catch {
                XCTFail("\(error)")
            }
        }
    }

    func testTheDefaultExamples() throws {
        let examples = repositoryRoot.appendingPathComponent("Examples")
        let cnn = try ModelFile.load(contentsOf: examples.appendingPathComponent("digits.yaml"))
        XCTAssertEqual(cnn.data.source, .builtin("digits"))
        XCTAssertEqual(cnn.tasks.map(\.name), ["digit", "parity", "value"])
        XCTAssertEqual(cnn.tasks.map(\.loss), [.crossEntropy, .crossEntropy, .mse])
        XCTAssertEqual(cnn.tasks[0].metrics, [.accuracy, .macroF1])
        XCTAssertEqual(try summarize(cnn).tasks.map(\.outputShape), [[10], [2], [1]])

        let mlp = try ModelFile.load(contentsOf: examples.appendingPathComponent("digits-mlp.json"))
        XCTAssertEqual(mlp.tasks.map(\.name), cnn.tasks.map(\.name))
        XCTAssertTrue(mlp.shared.allSatisfy { if case .conv2d = $0.kind { return false } else { return true } })

        let csv = try ModelFile.load(contentsOf: examples.appendingPathComponent("digits-csv.yaml"))
        XCTAssertEqual(csv.data.source,
                       .csv(examples.appendingPathComponent("data/digits-sample.csv").standardizedFileURL))
    }
}
