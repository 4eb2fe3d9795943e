import XCTest
@testable import CanopyModel

/// Reading the text itself: YAML and JSON syntax, encodings, empty and missing files, hostile documents.
final class DocumentReaderTests: XCTestCase {
    func testYAMLSyntaxErrorsHaveALine() {
        assertModelError(base(replacing: "  batch_size: 8", with: "  batch_size: [8"), line: 18, keyPath: "",
                         "YAML syntax error")
        assertModelError(base(replacing: "  epochs: 2", with: "\tepochs: 2"), line: 18, keyPath: "",
                         "YAML syntax error", "tab")
        assertModelError(baseYAML + "\n---\nname: again\n", line: 19, keyPath: "",
                         "a model file holds one YAML document, but another starts here")
        assertModelError(base(replacing: "name: t", with: "name: *nowhere"), line: 1, keyPath: "",
                         "found undefined alias")
    }

    func testJSONSyntaxErrorsHaveALineAndColumn() {
        let cases: [(String, Int, Int, String)] = [
            ("{\"name\": \"a\"\n \"data\": 1}", 2, 2, "expected ',' or '}' after a value in an object, found '\"'"),
            ("{\"name\": [1, 2,]}", 1, 16, "unexpected ']', expected a value"),
            ("{'name': 1}", 1, 2, "expected a key in double quotes, found '''"),
            ("{name: 1}", 1, 2, "expected a key in double quotes, found 'n'"),
            ("{\"name\": \"abc", 1, 14, "unterminated string"),
            ("{\"name\": 1} x", 1, 13, "unexpected 'x' after the JSON value"),
            ("{\"name\": 01}", 1, 11, "numbers may not start with a 0"),
            ("{\"name\": 1.}", 1, 12, "expected a digit after '.'"),
            ("{\"name\": \"a\\qb\"}", 1, 14, "invalid escape '\\q'"),
            ("{\"name\": \"a\tb\"}", 1, 12, "control character U+0009 in a string"),
            ("{\"name\": tru}", 1, 10, "unexpected 't', expected a value"),
            ("{\"name\": \"\\ud800x\"}", 1, 17, "unpaired surrogate"),
            ("{\"name\" 1}", 1, 9, "expected ':' after a key, found '1'"),
            ("{\"a\": {\"b\": [\n1,\n2\n}}", 4, 1, "expected ',' or ']' after a value in an array, found '}'"),
            ("// comment\n{}", 1, 1, "unexpected '/', expected a value"),
        ]
        for (text, line, column, phrase) in cases {
            assertModelError(text, fileName: "m.json", line: line, column: column, keyPath: "",
                             "JSON syntax error: " + phrase)
        }
    }

    func testJSONStringsNumbersAndNesting() throws {
        var reader = JSONReader(fileName: "x.json")
        let root = try XCTUnwrap(reader.read(" {\"s\": \"caf\\u00e9 \\ud83d\\ude00 \\/\\\\\\\"\\n\", \"n\": -1.5e+3, "
                                             + "\"t\": true, \"z\": null, \"e\": {}, \"l\": []} "))
        guard case .mapping(let pairs) = root.content else { return XCTFail("not a mapping") }
        XCTAssertEqual([root.line, root.column], [1, 2])
        let values = pairs.map { pair -> String in
            switch pair.value.content {
            case .scalar(let text, let quoted): return quoted ? "\"\(text)\"" : text
            case .sequence(let items): return "list \(items.count)"
            case .mapping(let items): return "map \(items.count)"
            }
        }
        XCTAssertEqual(values, ["\"café 😀 /\\\"\n\"", "-1.5e+3", "true", "null", "map 0", "list 0"])
        XCTAssertTrue(pairs[3].value.isNull)
        XCTAssertEqual(pairs[1].value.column, 48)
        var empty = JSONReader(fileName: "x.json")
        XCTAssertNil(try empty.read(" \n\t"))
        let deep = String(repeating: "[", count: 100_000)
        assertModelError(deep, fileName: "deep.json", line: 1, column: 66, keyPath: "", "nested more than 64 deep")
    }

    func testAliasBombIsRefusedQuickly() {
        var lines = ["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
        let names = Array("abcdefghij").map(String.init)
        for i in 1..<names.count {
            let refs = Array(repeating: "*\(names[i - 1])", count: 9).joined(separator: ",")
            lines.append("\(names[i]): &\(names[i]) [\(refs)]")
        }
        lines.append("name: bomb\nshared: *j")
        let start = Date()
        assertModelError(lines.joined(separator: "\n"), fileName: "bomb.yaml", line: 1, keyPath: "",
                         "expands to more than 100000 values")
        let seconds = Date().timeIntervalSince(start)
        print("alias bomb refused in \(seconds) s")
        XCTAssertLessThan(seconds, 0.5)
        // A few aliases are fine.
        XCTAssertNoThrow(try parseModel(base(replacing: "  digit: {head: [{dense: 10}], loss: cross_entropy}",
                                             with: "  digit: {head: &h [{dense: 10}], loss: cross_entropy}\n"
                                                + "  again: {head: *h, loss: cross_entropy}")))
    }

    func testDeepYAMLNestingIsRefused() {
        let start = Date()
        assertModelError("name: " + String(repeating: "[", count: 200_000), line: 1, column: 71, keyPath: "",
                         "nested more than 64 deep")
        assertModelError("name: t\nshared:\n" + String(repeating: "- ", count: 200_000) + "relu\n", line: 3, column: 257,
                         keyPath: "", "nested more than 64 deep")
        assertModelError("name: t\ndescription: " + String(repeating: "[]", count: 2001), line: 2, column: 4014,
                         keyPath: "", "the file opens more than 2000 '[' and '{'")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    /// Yams needs about 8 KB of stack per level in a debug build. Nesting the checks allow must still parse
    /// (into a clean error) on a thread with a small stack.
    func testNestingWithinTheLimitsParsesOnASmallStack() {
        // Closers in comments do not close: this is 1,000 deep though brackets look balanced line by line.
        let flow = "name: " + String(repeating: "[ #]\n  ", count: 1000) + String(repeating: "]", count: 1000)
        let block = "name: t\nshared:\n" + String(repeating: "- ", count: 127) + "relu\n"
        let finished = expectation(description: "parsed on a thread with a 1 MiB stack")
        let thread = Thread {
            assertModelError(flow, line: 65, column: 3, keyPath: "", "nested more than 64 deep")
            assertModelError(block, line: 3, keyPath: "", "nested more than 64 deep")
            finished.fulfill()
        }
        thread.stackSize = 1 << 20
        thread.start()
        wait(for: [finished], timeout: 10)
    }

    func testEncodingEmptyMissingAndHugeFiles() throws {
        let bad = Data("name: t\ndata: caf".utf8) + Data([0xC3, 0x28]) + Data("\n".utf8)
        XCTAssertThrowsError(try ModelFile.parse(data: bad, fileName: "latin.yaml", baseDirectory: nil)) { error in
            XCTAssertEqual("\(error)", "latin.yaml:2:10: the file is not valid UTF-8 (byte 17 cannot be decoded)")
        }
        assertModelError("", line: nil, keyPath: "", "the model file is empty")
        assertModelError(" \n\n  ", fileName: "e.json", line: nil, keyPath: "", "the model file is empty")
        assertModelError("# just a comment\n", line: nil, keyPath: "", "holds only comments")
        assertModelError("{}", fileName: "e.json", line: 1, column: 1, keyPath: "name", "missing required key 'name'")
        assertModelError(String(repeating: "#", count: ModelLimits.maxFileBytes + 1), line: nil, keyPath: "",
                         "more than the limit of 1048576")

        let missing = URL(fileURLWithPath: "/nonexistent/canopy/model.yaml")
        XCTAssertThrowsError(try ModelFile.load(contentsOf: missing)) { error in
            XCTAssertEqual("\(error)", "model.yaml: cannot read the model file /nonexistent/canopy/model.yaml: no such file")
        }
        XCTAssertThrowsError(try ModelFile.load(contentsOf: URL(fileURLWithPath: "/dev/null"))) { error in
            XCTAssertEqual("\(error)", "null: cannot read the model file /dev/null: is a character device, not a model file")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-model-\(UUID()).yaml")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        XCTAssertThrowsError(try ModelFile.load(contentsOf: directory)) { error in
            XCTAssertTrue("\(error)".contains("is a directory, not a model file"), "\(error)")
        }
        let invalid = directory.appendingPathComponent("bad.yaml")
        try (Data("name: t\n".utf8) + Data([0xFF])).write(to: invalid)
        XCTAssertThrowsError(try ModelFile.load(contentsOf: invalid)) { error in
            XCTAssertEqual("\(error)", "bad.yaml:2:1: the file is not valid UTF-8 (byte 8 cannot be decoded)")
        }
    }

    func testQuotedNumbersAreStringsAndPlainWordsAreNot() throws {
        // A name may be written as a number; a number may not be written as a string.
        XCTAssertEqual(try parseModel(base(replacing: "name: t", with: "name: 42")).name, "42")
        XCTAssertEqual(try parseModel(base(replacing: "name: t", with: "name: 'it''s'")).name, "it's")
        assertModelError(base(replacing: "epochs: 2", with: "epochs: '2'"), line: 18, keyPath: "train.epochs",
                         "expected an integer, found the string \"2\"")
        assertModelError(base(replacing: "name: t", with: "name: ~"), line: 1, keyPath: "name", "'name' needs a value")
        XCTAssertTrue(NumberSyntax.isNumber(".5"))
        XCTAssertTrue(NumberSyntax.isNumber("+2."))
        XCTAssertTrue(NumberSyntax.isNumber("1E-3"))
        XCTAssertFalse(NumberSyntax.isNumber("1e"))
        XCTAssertFalse(NumberSyntax.isNumber("."))
        XCTAssertFalse(NumberSyntax.isNumber("0x10"))
        XCTAssertFalse(NumberSyntax.isNumber("1_000"))
    }
}
