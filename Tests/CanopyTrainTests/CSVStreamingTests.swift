import XCTest
@testable import CanopyTrain
import CanopyModel

/// The streaming CSV reader: records come out the same whatever the chunk size, absurd fields and records are
/// refused after reading only that far, numbers are parsed strictly from bytes, and files that are not regular
/// files get sentences of their own.
final class CSVStreamingTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("canopy-csv-stream-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(bytes: [UInt8], name: String = "data.csv") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// Every record as (line, fields), read with chunks of `chunkSize` bytes.
    private func records(_ url: URL, chunkSize: Int) throws -> [String] {
        var reader = try CSVReader(try InputFile(url, kind: "a CSV file"), file: url.lastPathComponent,
                                   chunkSize: chunkSize)
        var result: [String] = []
        try reader.forEachRecord { record in result.append("\(record.line):" + record.strings.joined(separator: "|")) }
        return result
    }

    private func loadError(_ url: URL, labels: [String] = ["y"]) -> String {
        do {
            _ = try CSVDataset.load(url: url, inputColumns: nil, labelColumns: labels)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testRecordsAreTheSameForEveryChunkSize() throws {
        let text = "\u{FEFF}a,\"b\"\"c\",d\r\n\r\n1,\"x\r\ny\",\"\"\"\"\r2,,\"é,\n\"\n\"\"\n\n3,4,5"
        let url = try write(bytes: Array(text.utf8))
        let expected = ["1:a|b\"c|d", "3:1|x\r\ny|\"", "5:2||é,\n", "7:", "9:3|4|5"]
        for chunkSize in [1, 2, 3, 4, 5, 7, 64, 1 << 20] {
            XCTAssertEqual(try records(url, chunkSize: chunkSize), expected, "chunk size \(chunkSize)")
        }
    }

    func testAFieldLongerThanTheLimitIsRefusedNamingItsLine() throws {
        let long = [UInt8](repeating: 0x31, count: CSVReader.maximumFieldLength + 1)
        let url = try write(bytes: Array("x,y\n1,2\n3,".utf8) + long + Array("\n".utf8))
        XCTAssertEqual(loadError(url), "\(url.relativePath):3: field 2 is longer than the limit of 1 MiB (1048576 bytes)")
        // Exactly at the limit is fine.
        let atLimit = try write(bytes: Array("x,y\n1,\"".utf8) + long.dropLast() + Array("\"\n".utf8), name: "at.csv")
        XCTAssertEqual(try records(atLimit, chunkSize: 1 << 16).count, 2)
    }

    func testAnUnclosedQuoteBeforeMuchDataHintsAtTheQuote() throws {
        let rows = [UInt8](String(repeating: "1,2\n", count: CSVReader.maximumFieldLength / 4 + 1).utf8)
        let url = try write(bytes: Array("x,y\n\"1,2\n".utf8) + rows)
        XCTAssertEqual(loadError(url), "\(url.relativePath):2: field 1 is longer than the limit of 1 MiB "
                           + "(1048576 bytes); is a closing quote '\"' missing?")
    }

    func testTheFirstErrorInTheFileIsReportedThoughTheCountingPassReadsAhead() throws {
        let url = try write(bytes: Array("x,y\n1,abc\n2,\"3\n4,5\n".utf8))
        XCTAssertEqual(loadError(url), "\(url.relativePath):2: column 'y': 'abc' is not a number")
        let stray = try write(bytes: Array("x,y\n1,2\n3,4\"\n5,x\n".utf8), name: "stray.csv")
        XCTAssertTrue(loadError(stray).hasPrefix("\(stray.relativePath):3: field 2 has a '\"' inside"), loadError(stray))
    }

    func testTooManyFieldsOrTooLongARecordIsRefused() throws {
        let commas = [UInt8](repeating: 0x2C, count: CSVReader.maximumFieldCount)
        let url = try write(bytes: Array("x,y\n".utf8) + commas + Array("\n".utf8))
        XCTAssertEqual(loadError(url), "\(url.relativePath):2: the record has more than the limit of 1048576 fields "
                           + "(is this a CSV file?)")
        // 65 fields of 1 MiB - 1 bytes each, plus commas: just over 64 MiB.
        let field = [UInt8](repeating: 0x20, count: CSVReader.maximumFieldLength - 1) + [0x2C]
        var big = Array("x\n".utf8)
        big.reserveCapacity(65 * field.count + 2)
        for _ in 0..<65 { big += field }
        let long = try write(bytes: big, name: "long.csv")
        XCTAssertEqual(loadError(long, labels: []), "\(long.relativePath):2: the record is longer than the limit of "
                           + "64 MiB (67108864 bytes)")
    }

    func testBytesThatAreNotPartOfTheNumberAreErrors() throws {
        let cases: [(cell: [UInt8], message: String)] = [
            ([0x31, 0x00, 0x32], "'1\\u{0}2' is not a number (it holds the control character U+0000)"),
            ([0x31, 0x00], "'1\\u{0}' is not a number (it holds the control character U+0000)"),
            ([0x31, 0x01], "'1\\u{1}' is not a number (it holds the control character U+0001)"),
            ([0x0B, 0x31], "'\\u{B}1' is not a number (it holds the control character U+000B)"),
            ([0x31, 0x7F], "'1\\u{7F}' is not a number (it holds the control character U+007F)"),
            (Array("1 2".utf8), "'1 2' is not a number"),
            (Array("1.5x".utf8), "'1.5x' is not a number"),
            (Array("1e".utf8), "'1e' is not a number"),
            (Array("١".utf8), "'١' is not a number"),
            (Array("nan".utf8), "'nan' is not a finite number"),
            (Array(" -inf ".utf8), "' -inf ' is not a finite number"),
        ]
        for (k, item) in cases.enumerated() {
            let url = try write(bytes: Array("x,y\n1,".utf8) + item.cell + Array("\n".utf8), name: "cell\(k).csv")
            XCTAssertEqual(loadError(url), "\(url.relativePath):2: column 'y': \(item.message)")
        }
    }

    func testTheFastNumberPathAgreesWithTheStandardLibrary() throws {
        var texts = ["0", "-0", "+0.0", "1", "-1", "1.", ".5", "-.5", "16777216", "16777217", "0.1", "0.3",
                     "3.4028235e38", "1e-45", "1e10", "1e11", "1e-10", "1e-11", "12345678", "123456789",
                     "0.00001234", "99999999", "1.5E+3", "2e-0", "0x1p3", "00000001.5", "7.0000001"]
        var random = SeededRandom(seed: 7)
        for _ in 0..<20_000 {
            let digits = 1 + random.nextInt(below: 9)
            var text = random.nextInt(below: 2) == 0 ? "-" : ""
            let dot = random.nextInt(below: digits + 1)
            for d in 0..<digits {
                if d == dot { text += "." }
                text += String(random.nextInt(below: 10))
            }
            if random.nextInt(below: 3) == 0 { text += "e\(random.nextInt(below: 25) - 12)" }
            texts.append(text)
        }
        var fast = 0
        for text in texts {
            let bytes = Array(text.utf8)
            let parsed = try bytes.withUnsafeBufferPointer { try parseNumericCell($0, file: "f", line: 1, column: "c") }
            let reference = Float(text)!
            XCTAssertEqual(parsed?.bitPattern, reference.bitPattern, text)
            if bytes.withUnsafeBufferPointer({ parseDecimalFast($0) }) != nil { fast += 1 }
        }
        XCTAssertGreaterThan(fast, texts.count / 2, "most short decimals take the fast path")
    }

    func testFilesThatAreNotRegularFilesGetClearErrors() throws {
        XCTAssertEqual(loadError(directory), "\(directory.relativePath): is a directory, not a CSV file")
        let null = URL(fileURLWithPath: "/dev/null")
        XCTAssertEqual(loadError(null), "/dev/null: is a character device, not a CSV file")
        let fifo = directory.appendingPathComponent("pipe.csv")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        XCTAssertEqual(loadError(fifo), "\(fifo.relativePath): is a named pipe (FIFO), not a CSV file")
        let inside = directory.appendingPathComponent("data.csv/inside.csv")
        _ = try write(bytes: Array("x,y\n1,2\n".utf8))
        XCTAssertEqual(loadError(inside), "\(inside.relativePath): cannot open the file: Not a directory")
    }

    func testAnUnreadableFileSaysPermissionDenied() throws {
        try XCTSkipIf(getuid() == 0, "root reads files whatever their permissions")
        let url = try write(bytes: Array("x,y\n1,2\n".utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: url.path)
        XCTAssertEqual(loadError(url), "\(url.relativePath): permission denied: the file cannot be opened for reading")
    }

    func testArraysAreAllocatedOnceAtTheirFinalSize() throws {
        // 1100 rows of 3 inputs: an array grown by appending would end with room for up to twice that.
        let text = "a,b,c,y\n" + (0..<1100).map { "\($0),1,2,\($0 % 2)\n" }.joined() + "\n\n"
        let d = try CSVDataset.load(url: try write(bytes: Array(text.utf8)), inputColumns: nil, labelColumns: ["y"])
        XCTAssertEqual(d.rowCount, 1100)
        XCTAssertLessThan(d.features.capacity, 3300 + 64)
        XCTAssertLessThan(d.labels["y"]!.values.capacity, 1100 + 64)
        XCTAssertLessThan(d.labels["y"]!.present.capacity, 1100 + 64)
    }
}
