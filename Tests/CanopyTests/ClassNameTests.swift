import Canopy
import Foundation
import XCTest

/// Class labels written as names: learned from the training data (sorted), carried by the parameters, mapped
/// the same way by evaluate and predict, and printed by predict.
final class ClassNameTests: ScratchTestCase {
    static let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

    /// The example CSV with its digit column written as words; `rows` picks data rows, `change` edits cells.
    private func namedCSV(_ rows: Range<Int>, to name: String, change: (Int, inout [String]) -> Void = { _, _ in }) throws {
        let lines = try String(contentsOf: TestModels.examples.appendingPathComponent("data/digits-sample.csv"),
                               encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let digit = header.firstIndex(of: "digit")!
        var out = [lines[0]]
        for (index, line) in lines.dropFirst().enumerated() where rows.contains(index) {
            var cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            cells[digit] = Self.words[Int(cells[digit])!]
            change(index, &cells)
            out.append(cells.joined(separator: ","))
        }
        try write(out.joined(separator: "\n") + "\n", to: name)
    }

    private func model(_ data: String, width: Int = 10) -> String {
        """
        name: named
        data: \(data)
        input: {shape: [64], scale: 0.0625, columns: [\((0..<64).map { "p\($0)" }.joined(separator: ", "))]}
        shared: [{dense: 32}, relu]
        tasks:
          digit: {head: [{dense: \(width)}], loss: cross_entropy, metrics: [accuracy]}
        train: {optimizer: {adam: {lr: 0.01}}, batch_size: 32, epochs: 12, seed: 1}
        """
    }

    func testNamedClassesTrainPredictAndEvaluateByName() throws {
        try namedCSV(0..<240, to: "train.csv")
        try namedCSV(240..<300, to: "new.csv")
        let file = try write(model("{source: train.csv, validation: 0.25, seed: 2}"))
        let trained = try canopy("train", file, "--backend", "cpu", "--out", path("run"))
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let parameters = path("run") + "/parameters.safetensors"
        let metadata = try SafeTensorsFile.read(from: URL(fileURLWithPath: parameters)).metadata
        XCTAssertEqual(try ClassNameMetadata.names(in: metadata, file: "p")["digit"], Self.words.sorted())
        let accuracy = try XCTUnwrap(try metricsLines(path("run")).last { $0["split"] as? String == "validation" }?["accuracy"] as? Double)
        XCTAssertGreaterThan(accuracy, 0.6)

        let predicted = try canopy("predict", file, "--backend", "cpu", "--checkpoint", parameters, "--data", path("new.csv"),
                                   "--out", path("p.csv"))
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        let rows = try String(contentsOfFile: path("p.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        let classes = rows.map { String($0.split(separator: ",")[1]) }
        XCTAssertEqual(classes.count, 60)
        XCTAssertTrue(classes.allSatisfy(Self.words.contains), "\(classes.prefix(5))")

        let evaluated = try canopy("evaluate", file, "--backend", "cpu", "--checkpoint", parameters, "--data", path("new.csv"))
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        XCTAssertTrue(evaluated.stdout.contains("60 labelled rows"), evaluated.stdout)

        try namedCSV(240..<300, to: "odd.csv") { index, cells in if index == 250 { cells[cells.count - 2] = "eleven" } }
        assertRefused(try canopy("evaluate", file, "--backend", "cpu", "--checkpoint", parameters, "--data", path("odd.csv")),
                      "odd.csv:12", "'eleven' is not one of the classes the model knows")
    }

    func testMixedOrTooManyNamesAreRefused() throws {
        try namedCSV(0..<100, to: "mixed.csv") { index, cells in if index == 7 { cells[cells.count - 2] = "3" } }
        assertRefused(try canopy("check", try write(model("{source: mixed.csv}"), to: "mixed.yaml")),
                      "mixed.csv", "mixes numbers ('3') and names")
        try namedCSV(0..<100, to: "names.csv")
        assertRefused(try canopy("check", try write(model("{source: names.csv}", width: 4), to: "narrow.yaml")),
                      "names.csv", "names 10 classes", "the head gives 4 outputs")
    }
}
