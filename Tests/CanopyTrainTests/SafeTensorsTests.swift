import CanopyTestSupport
import XCTest
@testable import CanopyTrain

/// safetensors: exact layout, round trip, every kind of damaged file, atomic writes, and (when available) the
/// reference Python reader.
final class SafeTensorsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("canopy-st-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func sample() -> SafeTensorsFile {
        SafeTensorsFile(tensors: [(name: "trunk.dense0.weight", shape: [2, 3], values: [1, -2, 3.5, 0, .pi, -1e-30]),
                                  (name: "step", shape: [], values: [42]),
                                  (name: "empty", shape: [0, 4], values: []),
                                  (name: "q\"uote\\d", shape: [1], values: [.infinity])],
                        metadata: ["model": "digits-mtl", "note": "line\nbreak \"quoted\""])
    }

    func testExactBytesOfASmallFile() throws {
        let bytes = try SafeTensorsFile(tensors: [(name: "a", shape: [2], values: [1, -2])]).encoded()
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        XCTAssertEqual(Array(bytes[0..<8]), [UInt8(padded.utf8.count), 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(String(decoding: bytes[8..<(8 + padded.utf8.count)], as: UTF8.self), padded)
        XCTAssertEqual(Array(bytes[(8 + padded.utf8.count)...]), [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])
        XCTAssertEqual(bytes.count % 8, 0)
    }

    func testRoundTripKeepsOrderValuesAndMetadata() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        try sample().write(to: url)
        let back = try SafeTensorsFile.read(from: url)
        XCTAssertEqual(back.tensors.map(\.name), sample().tensors.map(\.name))
        XCTAssertEqual(back.tensors.map(\.shape), sample().tensors.map(\.shape))
        var largest: Float = 0
        for (a, b) in zip(back.tensors, sample().tensors) {
            XCTAssertEqual(a.values.map(\.bitPattern), b.values.map(\.bitPattern), a.name)
            for (x, y) in zip(a.values, b.values) where x.isFinite { largest = max(largest, abs(x - y)) }
        }
        print("safetensors round trip: largest difference \(largest)")
        XCTAssertEqual(back.metadata, sample().metadata)
        XCTAssertEqual(back.tensor(named: "step")?.values, [42])
    }

    func testInvalidContentsAreRejectedBeforeWriting() throws {
        let url = directory.appendingPathComponent("keep.safetensors")
        try sample().write(to: url)
        let before = try Data(contentsOf: url)
        let bad: [(SafeTensorsFile, String)] = [
            (SafeTensorsFile(tensors: [(name: "w", shape: [2, 2], values: [1, 2, 3])]),
             "tensor 'w' has shape [2, 2] but 3 values"),
            (SafeTensorsFile(tensors: [(name: "w", shape: [1], values: [1]), (name: "w", shape: [1], values: [2])]),
             "tensor name 'w' is used twice"),
            (SafeTensorsFile(tensors: [(name: "__metadata__", shape: [1], values: [1])]),
             "tensor 0 has the reserved or empty name '__metadata__'"),
        ]
        for (file, message) in bad {
            XCTAssertThrowsError(try file.write(to: url)) { error in
                XCTAssertEqual("\(error)", "\(url.relativePath): \(message)")
            }
        }
        XCTAssertEqual(try Data(contentsOf: url), before, "a failed write leaves the old file")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["keep.safetensors"],
                       "no temporary file is left behind")
    }

    func testWritingReplacesAtomicallyAndReportsMissingDirectories() throws {
        let url = directory.appendingPathComponent("ckpt.safetensors")
        try sample().write(to: url)
        try SafeTensorsFile(tensors: [(name: "x", shape: [1], values: [7])]).write(to: url)
        XCTAssertEqual(try SafeTensorsFile.read(from: url).tensors.map(\.name), ["x"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["ckpt.safetensors"])
        let nowhere = directory.appendingPathComponent("missing/ckpt.safetensors")
        XCTAssertThrowsError(try sample().write(to: nowhere)) { error in
            XCTAssertTrue("\(error)".contains("cannot create a temporary file"), "\(error)")
            XCTAssertTrue("\(error)".contains("No such file or directory"), "\(error)")
        }
    }

    /// A valid file's bytes with the header replaced by `header` (re-padded) and the data by `data`.
    private func file(header: String, data: [UInt8]) -> [UInt8] {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var bytes = [UInt8]()
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { bytes.append(contentsOf: $0) }
        return bytes + h + data
    }

    private func decodeError(_ bytes: [UInt8]) -> String {
        do {
            _ = try SafeTensorsFile.decode(bytes, file: "f")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testDamagedFilesGiveClearErrors() throws {
        let good = try sample().encoded()
        XCTAssertEqual(decodeError(Array(good[0..<5])),
                       "f: is 5 bytes long; a safetensors file starts with an 8-byte header length")
        XCTAssertEqual(decodeError(Array(good[0..<20])),
                       "f: header length \(Int(good[0]) | Int(good[1]) << 8) runs past the end of the file (20 bytes): truncated?")
        XCTAssertEqual(decodeError([0, 0, 0, 0, 0, 0, 0, 1] + [UInt8](repeating: 0x20, count: 8)),
                       "f: header length 72057594037927936 is above the limit of 100000000 bytes (not a safetensors file?)")
        XCTAssertTrue(decodeError(Array(good.dropLast(4))).hasPrefix("f: tensor "), decodeError(Array(good.dropLast(4))))
        XCTAssertEqual(decodeError(good + [0, 0, 0, 0]), "f: the tensors cover 32 data bytes but the file holds 36")
        XCTAssertTrue(decodeError(file(header: "{\"a\":", data: [])).hasPrefix("f: the header is not valid JSON"))
        XCTAssertEqual(decodeError(file(header: "[1]", data: [])), "f: the header does not start with '{'")
        XCTAssertEqual(decodeError(file(header: #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])),
                       "f: tensor 'a': dtype F16 is not supported (Canopy reads F32 only)")
        XCTAssertEqual(decodeError(file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))),
                       "f: tensor 'a': shape [3] needs 12 bytes but data_offsets [0, 8] hold 8")
        XCTAssertEqual(decodeError(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0])),
                       "f: tensor 'a': data_offsets [0, 8] are outside the 4 data bytes")
        XCTAssertEqual(decodeError(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8))),
                       "f: tensor 'a' starts at data byte 4, expected 0 (tensors overlap or leave a gap)")
        XCTAssertEqual(decodeError(file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#, data: [])),
                       "f: tensor 'a': shape is not a list of non-negative integers")
        XCTAssertEqual(decodeError(file(header: #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])),
                       "f: tensor 'a': shape is not a list of non-negative integers")
        XCTAssertEqual(decodeError(file(header: #"{"__metadata__":{"k":1}}"#, data: [])), "f: __metadata__.k is not a string")
        XCTAssertEqual(decodeError(file(header: "{}", data: [])), "no error")
        var invalidUTF8 = file(header: "{\"a\":1}", data: [])
        invalidUTF8[10] = 0xFF
        XCTAssertEqual(decodeError(invalidUTF8), "f: the header is not valid UTF-8")
        let missing = directory.appendingPathComponent("none.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile.read(from: missing)) { error in
            XCTAssertEqual("\(error)", "\(missing.relativePath): no such file")
        }
    }

    /// Runs Scripts/check_safetensors.py when a Python with `safetensors` is at hand (`$CANOPY_PYTHON`, else
    /// `python3`); skips otherwise.
    func testReferencePythonReaderLoadsCanopyFiles() throws {
        let python = ProcessInfo.processInfo.environment["CANOPY_PYTHON"] ?? "/usr/bin/env"
        let prefix = ProcessInfo.processInfo.environment["CANOPY_PYTHON"] == nil ? ["python3"] : []
        let probe = try runProcess(python, prefix + ["-c", "import safetensors, numpy"])
        try XCTSkipUnless(probe.status == 0, "Python package safetensors not installed (set CANOPY_PYTHON)")
        let url = directory.appendingPathComponent("check.safetensors")
        try sample().write(to: url)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scripts/check_safetensors.py")
        let result = try runProcess(python, prefix + [script.path, url.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output, """
            empty\tfloat32\t0x4\t0
            q"uote\\d\tfloat32\t1\tinf
            step\tfloat32\tscalar\t42
            trunk.dense0.weight\tfloat32\t2x3\t5.64159
            __metadata__\tmodel\tdigits-mtl
            __metadata__\tnote\tline
            break "quoted"

            """)
        let fromPython = directory.appendingPathComponent("python.safetensors")
        let written = try runProcess(python, prefix + [script.path, "--write", fromPython.path])
        XCTAssertEqual(written.status, 0, written.output)
        let read = try SafeTensorsFile.read(from: fromPython)
        XCTAssertEqual(Set(read.tensors.map(\.name)), ["a", "b"])
        XCTAssertEqual(read.tensor(named: "b")?.shape, [2, 3])
        XCTAssertEqual(read.tensor(named: "b")?.values, [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(read.tensor(named: "a")?.values, [1.5])
        XCTAssertEqual(read.metadata, ["from": "python"])
    }

}
