import XCTest
@testable import CanopyModel

/// `log: {tensorboard: DIR}`: read as written, and bad values reported at their place.
final class LogSpecTests: XCTestCase {
    func testTensorBoardFolderIsReadAsWritten() throws {
        XCTAssertNil(try parseModel(baseYAML).log.tensorboard, "no log section writes no event files")
        let spec = try parseModel(baseYAML + "\nlog: {tensorboard: runs/tb/t}\n")
        XCTAssertEqual(spec.log.tensorboard, "runs/tb/t")
        XCTAssertEqual(spec.location(of: "log.tensorboard").line, 19)
        XCTAssertNil(try parseModel(baseYAML + "\nlog: {tensorboard: null}\n").log.tensorboard)
    }

    func testBadValuesArePlaced() {
        assertModelError(baseYAML + "\nlog: {tensorbord: runs/tb}\n", line: 19, column: 7, keyPath: "log.tensorbord",
                         "unknown key 'tensorbord'", "did you mean 'tensorboard'?")
        assertModelError(baseYAML + "\nlog: {tensorboard: [a, b]}\n", line: 19, column: 20, keyPath: "log.tensorboard",
                         "expected a string, found a list")
        assertModelError(baseYAML + "\nlog: {tensorboard: \" \"}\n", line: 19, keyPath: "log.tensorboard",
                         "expected a folder")
        assertModelError(baseYAML + "\nlog: runs/tb\n", line: 19, keyPath: "log", "a mapping such as {tensorboard: runs/tb}")
    }
}
