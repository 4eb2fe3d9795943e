import Canopy
import Foundation
import XCTest

/// Data that an embedding would misread is refused before training, with the place and the value; the kernels'
/// own behaviour for such ids (a zero row, no gradient) is tested with the kernels.
final class TokenIDCheckTests: XCTestCase {
    func plan(rows: [String], input: String = "{shape: [3], columns: [a, b, c]}") throws -> RunPlan {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-token-ids-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try (["a,b,c,y"] + rows).joined(separator: "\n").write(to: folder.appendingPathComponent("d.csv"), atomically: true,
                                                              encoding: .utf8)
        let model = """
            name: ids
            data: {source: d.csv, validation: 0.5, seed: 1}
            input: \(input)
            shared: [{embedding: {vocabulary: 5, dim: 4, padding: 0}}, sequence_mean]
            tasks:
              y: {head: [{dense: 2}], loss: cross_entropy}
            train: {optimizer: adam, batch_size: 2, epochs: 1}
            """
        let file = folder.appendingPathComponent("m.yaml")
        try model.write(to: file, atomically: true, encoding: .utf8)
        return try RunPlan(try ModelFile.load(contentsOf: file), device: nil)
    }

    func testValidIdsPlan() throws {
        XCTAssertNoThrow(try plan(rows: ["1,2,0,0", "4,3,0,1", "2,2,2,0", "1,0,0,1"]))
    }

    func testIdsOutsideTheVocabularyOrFractionalAreRefused() throws {
        for (bad, shown) in [("5", "5.0"), ("-1", "-1.0"), ("2.5", "2.5")] {
            XCTAssertThrowsError(try plan(rows: ["1,2,0,0", "4,\(bad),0,1", "2,\(bad),2,0", "1,0,\(bad),1"])) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("shared[0]"), text)
                XCTAssertTrue(text.contains("holds \(shown), not a token id in 0..<5"), text)
                XCTAssertTrue(text.contains("column 'b'") || text.contains("column 'c'"), text)
            }
        }
    }

    func testScaledInputIsRefused() {
        XCTAssertThrowsError(try plan(rows: ["1,2,0,0", "4,3,0,1"], input: "{shape: [3], columns: [a, b, c], scale: 0.5}")) {
            XCTAssertTrue("\($0)".contains("must not be scaled or normalized"), "\($0)")
        }
    }
}
