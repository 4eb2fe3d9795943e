import XCTest
@testable import CanopyTrain

/// `BuiltinDataset.load(named:options:)`: option names, ranges and defaults.
final class BuiltinOptionsTests: XCTestCase {
    private func errorText(_ name: String, _ options: [String: Double]) -> String {
        do {
            _ = try BuiltinDataset.load(named: name, options: options)
            XCTFail("expected an error for \(name) \(options)")
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testUnknownOptionsAreErrorsWithSuggestions() {
        XCTAssertEqual(errorText("multidigits", ["rowz": 10]),
                       "unknown option 'rowz' for the builtin dataset 'multidigits' (did you mean 'rows'?); "
                       + "its options are: rows, seed")
        XCTAssertEqual(errorText("digits", ["rows": 10]),
                       "unknown option 'rows' for the builtin dataset 'digits'; it takes no options")
        XCTAssertEqual(errorText("synthetic-mmoe", ["corelation": 0.2]),
                       "unknown option 'corelation' for the builtin dataset 'synthetic-mmoe' (did you mean "
                       + "'correlation'?); its options are: correlation, features, noise, rows, seed")
        XCTAssertTrue(errorText("multi-digits", [:]).contains("did you mean 'multidigits'?"))
    }

    func testOptionValuesOutOfRangeAreErrors() {
        XCTAssertEqual(errorText("multidigits", ["rows": 2.5]),
                       "option 'rows' of the builtin dataset 'multidigits' must be a whole number in 1…1000000, got 2.5")
        XCTAssertTrue(errorText("multidigits", ["rows": 0]).contains("must be a whole number in 1…1000000"))
        XCTAssertTrue(errorText("multidigits", ["seed": -1]).contains("option 'seed'"))
        XCTAssertEqual(errorText("synthetic-mmoe", ["correlation": 1.5]),
                       "option 'correlation' of the builtin dataset 'synthetic-mmoe' must be a number in -1…1, got 1.5")
        XCTAssertTrue(errorText("synthetic-mmoe", ["features": 1]).contains("option 'features'"))
        XCTAssertTrue(errorText("synthetic-mmoe", ["noise": -0.1]).contains("option 'noise'"))
        XCTAssertTrue(errorText("synthetic-mmoe", ["noise": .nan]).contains("option 'noise'"))
        XCTAssertTrue(errorText("synthetic-mmoe", ["rows": 1_000_000, "features": 1000])
            .contains("rows × features = 1000000 × 1000 is more than 268435456 values"))
    }

    func testDefaultsAndTheOptionFreeEntryPoint() throws {
        let digits = try BuiltinDataset.load(named: "digits")
        XCTAssertEqual(try BuiltinDataset.load(named: "digits", options: [:]), digits)
        XCTAssertNil(digits.validationRows, "digits has no designated split")
        let pairs = try BuiltinDataset.load(named: "multidigits")
        XCTAssertEqual(pairs.rowCount, 5000)
        XCTAssertEqual(pairs.validationRows?.count, 1000)
        XCTAssertEqual(try BuiltinDataset.load(named: "multidigits", options: ["seed": 0, "rows": 5000]), pairs)
        XCTAssertEqual(BuiltinDataset.names, ["digits", "multidigits", "synthetic-mmoe"])
    }
}
