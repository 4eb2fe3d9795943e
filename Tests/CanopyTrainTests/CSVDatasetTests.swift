import XCTest
@testable import CanopyTrain

/// CSV loading: RFC 4180 quoting, line endings, missing labels, and every error naming file, line and column.
final class CSVDatasetTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("canopy-csv-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(_ text: String, name: String = "data.csv") throws -> URL {
        try write(bytes: Array(text.utf8), name: name)
    }

    private func write(bytes: [UInt8], name: String = "data.csv") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// Loads and returns the error's description, failing the test if nothing is thrown.
    private func errorText(_ url: URL, inputs: [String]? = nil, labels: [String],
                           file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try CSVDataset.load(url: url, inputColumns: inputs, labelColumns: labels)
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testQuotingLineEndingsAndMissingLabels() throws {
        let text = "\u{FEFF}\"a\",b,\"the \"\"label\"\"\",note\r\n"
            + "1,2,3,\"hello, world\"\r\n"
            + "4, 5 ,,\"two\nlines\"\r\n"
            + "\r\n"
            + "7,8e-1,9,x"
        let url = try write(text)
        let d = try CSVDataset.load(url: url, inputColumns: ["b", "a"], labelColumns: ["the \"label\""])
        XCTAssertEqual(d.rowCount, 3)
        XCTAssertEqual(d.featureNames, ["b", "a"])
        XCTAssertEqual(d.features, [2, 1, 5, 4, 0.8, 7])
        XCTAssertEqual(d.labels["the \"label\""]!.values, [3, 0, 9])
        XCTAssertEqual(d.labels["the \"label\""]!.present, [true, false, true])
    }

    func testInputsDefaultToEveryNonLabelColumn() throws {
        let url = try write("x,y,z\n1,2,3\n4,5,6\n")
        let d = try CSVDataset.load(url: url, inputColumns: nil, labelColumns: ["y"])
        XCTAssertEqual(d.featureNames, ["x", "z"])
        XCTAssertEqual(d.features, [1, 3, 4, 6])
        XCTAssertEqual(d.labels["y"]!.values, [2, 5])
    }

    func testLoneCarriageReturnsAndNoTrailingNewline() throws {
        let url = try write("x,y\r1,2\r3,4")
        let d = try CSVDataset.load(url: url, inputColumns: nil, labelColumns: ["y"])
        XCTAssertEqual(d.features, [1, 3])
    }

    func testEmptyInputCellNamesFileLineAndColumn() throws {
        let url = try write("x,y\n1,2\n\"3\",\n,4\n")
        XCTAssertEqual(errorText(url, labels: ["y"]),
                       "\(url.relativePath):4: column 'x': empty cell in an input column (only label cells may be missing)")
    }

    func testDeclaredMissingMarkersInLabelColumns() throws {
        let url = try write("x,y,z\n1,NA,2\n3, -999 ,\"NA\"\n5,na,NA \n7,,8\n")
        do {
            _ = try CSVDataset.load(url: url, inputColumns: ["x"], labelColumns: ["y", "z"], missing: ["NA", "-999"])
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual("\(error)", "\(url.relativePath):4: column 'y': 'na' is not a number",
                           "markers match exactly: 'na' is not 'NA'")
        }
        let withLowercase = try CSVDataset.load(url: url, inputColumns: ["x"], labelColumns: ["y", "z"],
                                                missing: ["NA", "-999", "na"])
        XCTAssertEqual(withLowercase.labels["y"]!.present, [false, false, false, false])
        XCTAssertEqual(withLowercase.labels["z"]!.present, [true, false, false, true])
        XCTAssertEqual(withLowercase.labels["z"]!.values, [2, 0, 0, 8])
        XCTAssertEqual(withLowercase.features, [1, 3, 5, 7])
        // Without declared markers, 'NA' is text that is not a number.
        XCTAssertEqual(errorText(url, inputs: ["x"], labels: ["y"]),
                       "\(url.relativePath):2: column 'y': 'NA' is not a number")
    }

    func testDeclaredMissingMarkerInAnInputColumnIsAnError() throws {
        let url = try write("x,y\n1,2\n NA ,3\n")
        do {
            _ = try CSVDataset.load(url: url, inputColumns: nil, labelColumns: ["y"], missing: ["NA"])
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual("\(error)", "\(url.relativePath):3: column 'x': missing value 'NA' in an input column "
                               + "(only label cells may be missing)")
        }
    }

    func testLineNumbersCountQuotedLineBreaks() throws {
        let url = try write("x,y,note\n1,2,\"a\n\nb\"\nabc,3,c\n")
        XCTAssertEqual(errorText(url, inputs: ["x"], labels: ["y"]),
                       "\(url.relativePath):5: column 'x': 'abc' is not a number")
    }

    func testNonNumericAndNonFiniteCells() throws {
        let label = try write("x,y\n1,two\n", name: "label.csv")
        XCTAssertEqual(errorText(label, labels: ["y"]), "\(label.relativePath):2: column 'y': 'two' is not a number")
        let infinite = try write("x,y\ninf,1\n", name: "inf.csv")
        XCTAssertEqual(errorText(infinite, labels: ["y"]),
                       "\(infinite.relativePath):2: column 'x': 'inf' is not a finite number")
    }

    func testRaggedRows() throws {
        let url = try write("x,y,z\n1,2,3\n4,5\n")
        XCTAssertEqual(errorText(url, labels: ["y"]), "\(url.relativePath):3: row has 2 fields but the header has 3")
    }

    func testUnknownColumnsSuggestAName() throws {
        let url = try write("pixel,digit,parity\n1,2,3\n")
        XCTAssertEqual(errorText(url, labels: ["digt"]),
                       "\(url.relativePath):1: column 'digt': no label column 'digt' in the header (did you mean 'digit'?)")
        XCTAssertEqual(errorText(url, inputs: ["zzz"], labels: ["digit"]),
                       "\(url.relativePath):1: column 'zzz': no input column 'zzz' in the header; "
                           + "columns are: pixel, digit, parity")
        XCTAssertEqual(errorText(url, inputs: ["digit"], labels: ["digit"]),
                       "\(url.relativePath): column 'digit': a column cannot be both an input and a label")
    }

    func testMissingEmptyAndHeaderOnlyFiles() throws {
        let missing = directory.appendingPathComponent("nope.csv")
        XCTAssertEqual(errorText(missing, labels: []), "\(missing.relativePath): no such file")
        let empty = try write("", name: "empty.csv")
        XCTAssertEqual(errorText(empty, labels: []),
                       "\(empty.relativePath): the file is empty; a header row naming the columns is required")
        let blank = try write("\n\r\n", name: "blank.csv")
        XCTAssertTrue(errorText(blank, labels: []).hasSuffix("the file is empty; a header row naming the columns is required"))
        let headerOnly = try write("x,y\n", name: "header.csv")
        XCTAssertEqual(errorText(headerOnly, labels: ["y"]),
                       "\(headerOnly.relativePath): the file has a header row but no data rows")
    }

    func testInvalidUTF8AndBadQuotes() throws {
        let invalid = try write(bytes: Array("x,y\n1,2\n".utf8) + [0x31, 0xFF, 0x2C, 0x33, 0x0A], name: "bin.csv")
        XCTAssertEqual(errorText(invalid, labels: ["y"]),
                       "\(invalid.relativePath):3: field 1 is not valid UTF-8 (save the file as UTF-8)")
        let unclosed = try write("x,y\n1,\"2\n3,4\n", name: "open.csv")
        XCTAssertEqual(errorText(unclosed, labels: ["y"]),
                       "\(unclosed.relativePath):2: a quoted field is never closed (missing '\"')")
        let stray = try write("x,y\n1,2\"\n", name: "stray.csv")
        XCTAssertTrue(errorText(stray, labels: ["y"]).hasPrefix("\(stray.relativePath):2: field 2 has a '\"' inside"))
        let after = try write("x,y\n\"1\"2,3\n", name: "after.csv")
        XCTAssertEqual(errorText(after, labels: ["y"]),
                       "\(after.relativePath):2: a closing quote must be followed by ',' or the end of the line")
        let duplicate = try write("x,x\n1,2\n", name: "dup.csv")
        XCTAssertEqual(errorText(duplicate, labels: []),
                       "\(duplicate.relativePath):1: column 'x': the header names this column twice (fields 1 and 2)")
    }

    func testShippedSampleMatchesTheBuiltinDigits() throws {
        // Examples/data/digits-sample.csv is the first 300 rows of the builtin data, some parity labels removed.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let url = root.appendingPathComponent("Examples/data/digits-sample.csv")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: url.path), "no sample at \(url.path)")
        let sample = try CSVDataset.load(url: url, inputColumns: nil, labelColumns: ["digit", "parity"])
        let digits = try BuiltinDataset.load(named: "digits").subset(rows: Array(0..<300))
        XCTAssertEqual(sample.rowCount, 300)
        XCTAssertEqual(sample.featureNames, digits.featureNames)
        XCTAssertEqual(sample.features, digits.features)
        XCTAssertEqual(sample.labels["digit"], digits.labels["digit"])
        let parity = sample.labels["parity"]!
        let missing = parity.present.filter { !$0 }.count
        print("digits-sample.csv: \(missing) parity labels missing")
        XCTAssertTrue((1...30).contains(missing))
        for i in 0..<300 where parity.present[i] {
            XCTAssertEqual(parity.values[i], digits.labels["parity"]!.values[i])
        }
    }
}
