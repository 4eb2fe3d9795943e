@testable import CanopyTrain
import CanopyModel
import Foundation
import XCTest

/// PNG and JPEG images named by a labels CSV: known pixel values, channel rules, and clear errors for missing,
/// damaged, truncated, foreign and wrongly sized files. The images are embedded below (PNGs written with
/// Python's zlib, JPEGs with libjpeg-turbo's `cjpeg -quality 100` from solid PGM/PPM images).
final class ImageFolderDatasetTests: XCTestCase {
    /// 3×2 gray PNG: rows [0, 51, 102] and [153, 204, 255].
    static let gray3x2 = "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAAAAAC4HznGAAAAEElEQVR4nGNgME5jmHnmPwAHmgL+77L/2AAAAABJRU5ErkJggg=="
    /// 2×2 RGB PNG: red, green / blue, (10, 20, 30).
    static let rgb2x2 = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAE0lEQVR4nGP4z8DAAMIM/7lE5AAaWAM6VmOiPAAAAABJRU5ErkJggg=="
    /// The same pixels with alpha 0, 128, 255, 7.
    static let rgba2x2 = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR4nGP4zwAE/xkaQOR/LhE5dgAtkQTAysxNawAAAABJRU5ErkJggg=="
    /// 8×8 gray JPEG, every pixel 128.
    static let gray8x8 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAALCAAIAAgBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/ACv/2Q=="
    /// 8×8 RGB JPEG, every pixel (200, 100, 50).
    static let rgb8x8 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/2wBDAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAARCAAIAAgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDn6KKK/wArz/bA/9k="

    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-images-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("img"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func write(_ name: String, base64: String) throws {
        try Data(base64Encoded: base64)!.write(to: directory.appendingPathComponent(name))
    }

    private func csv(_ text: String, name: String = "labels.csv") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private func load(_ url: URL, shape: [Int], labels: [String] = ["kind"],
                      classNames: [String: ClassNames] = [:]) throws -> Dataset {
        try ImageFolderDataset.load(url: url, fileColumn: "file", shape: shape, labelColumns: labels,
                                    classNames: classNames)
    }

    func testGrayPNGDecodesToItsPixelsOver255() throws {
        try write("img/g.png", base64: Self.gray3x2)
        let data = try load(try csv("file,kind\nimg/g.png,1\n"), shape: [1, 2, 3])
        XCTAssertEqual(data.features, [0, 51, 102, 153, 204, 255].map { Float($0) / 255 })
        XCTAssertEqual(data.featureNames.first, "[0,0,0]")
        XCTAssertEqual(data.featureNames.last, "[0,1,2]")
        XCTAssertEqual(data.labels["kind"]?.values, [1])
    }

    func testRGBPNGIsChannelsFirst() throws {
        try write("img/c.png", base64: Self.rgb2x2)
        let data = try load(try csv("file,kind\nimg/c.png,0\n"), shape: [3, 2, 2])
        let expected: [Float] = [255, 0, 0, 10,   0, 255, 0, 20,   0, 0, 255, 30]
        XCTAssertEqual(data.features, expected.map { $0 / 255 })
    }

    func testAlphaIsDroppedAndGrayIsReplicatedIntoRGB() throws {
        try write("img/a.png", base64: Self.rgba2x2)
        try write("img/g.png", base64: Self.gray3x2)
        let data = try load(try csv("file,kind\nimg/a.png,0\n"), shape: [3, 2, 2])
        XCTAssertEqual(data.features, ([255, 0, 0, 10, 0, 255, 0, 20, 0, 0, 255, 30] as [Float]).map { $0 / 255 })
        let gray = try load(try csv("file,kind\nimg/g.png,1\n"), shape: [3, 2, 3])
        let plane: [Float] = [0, 51, 102, 153, 204, 255].map { Float($0) / 255 }
        XCTAssertEqual(gray.features, plane + plane + plane)
    }

    func testJPEGsDecodeToTheirSolidColours() throws {
        try write("img/g.jpg", base64: Self.gray8x8)
        try write("img/c.jpeg", base64: Self.rgb8x8)
        let gray = try load(try csv("file,kind\nimg/g.jpg,0\n"), shape: [1, 8, 8])
        XCTAssertEqual(gray.features.count, 64)
        XCTAssertLessThanOrEqual(gray.features.map { abs($0 * 255 - 128) }.max()!, 1)
        let colour = try load(try csv("file,kind\nimg/c.jpeg,0\n"), shape: [3, 8, 8])
        for (c, value) in [200, 100, 50].enumerated() {
            let plane = colour.features[(c * 64)..<((c + 1) * 64)]
            XCTAssertLessThanOrEqual(plane.map { abs($0 * 255 - Float(value)) }.max()!, 2, "channel \(c)")
        }
    }

    func testClassNameLabelsAndMissingLabelsReadAsInAnyCSV() throws {
        try write("img/g.png", base64: Self.gray3x2)
        let url = try csv("file,kind,size\nimg/g.png,cat,2\nimg/g.png,dog,\n img/g.png ,cat,NA\n")
        let data = try ImageFolderDataset.load(url: url, fileColumn: "file", shape: [1, 2, 3],
                                               labelColumns: ["kind", "size"], missing: ["NA"],
                                               classNames: ["kind": .learn])
        XCTAssertEqual(data.rowCount, 3)
        XCTAssertEqual(data.labels["kind"]?.classNames, ["cat", "dog"])
        XCTAssertEqual(data.labels["kind"]?.values, [0, 1, 0])
        XCTAssertEqual(data.labels["size"]?.present, [true, false, false])
    }

    /// Asserts that loading fails with a DataError whose text contains every fragment.
    private func assertFails(_ url: URL, shape: [Int], _ fragments: [String], line: UInt = #line) {
        XCTAssertThrowsError(try load(url, shape: shape), line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(error is DataError, text, line: line)
            for fragment in fragments { XCTAssertTrue(text.contains(fragment), "'\(fragment)' not in: \(text)", line: line) }
        }
    }

    func testDamagedTruncatedForeignAndMissingImagesNameTheFileAndRow() throws {
        let png = Data(base64Encoded: Self.rgb2x2)!
        try png.prefix(png.count - 20).write(to: directory.appendingPathComponent("img/cut.png"))
        let jpeg = Data(base64Encoded: Self.rgb8x8)!
        try jpeg.prefix(200).write(to: directory.appendingPathComponent("img/cut.jpg"))
        try Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: directory.appendingPathComponent("img/junk.png"))
        try Data().write(to: directory.appendingPathComponent("img/empty.png"))
        var damaged = png
        damaged.replaceSubrange(40..<50, with: [UInt8](repeating: 0xFF, count: 10))
        try damaged.write(to: directory.appendingPathComponent("img/bad.png"))
        try write("img/ok.png", base64: Self.rgb2x2)
        for name in ["cut.png", "cut.jpg", "junk.png", "empty.png", "bad.png", "absent.png"] {
            let url = try csv("file,kind\nimg/ok.png,0\nimg/\(name),1\n")
            assertFails(url, shape: [3, 2, 2], ["labels.csv:3: column 'file': row 2: image 'img/\(name)'"])
        }
        assertFails(try csv("file,kind\nimg/absent.png,1\n"), shape: [3, 2, 2], ["no such file"])
        assertFails(try csv("file,kind\nimg/junk.png,1\n"), shape: [3, 2, 2], ["not a readable PNG or JPEG"])
        assertFails(try csv("file,kind\n,1\n"), shape: [3, 2, 2], ["empty cell"])
        assertFails(try csv("file,kind\nimg\n"), shape: [3, 2, 2], ["1 fields but the header has 2"])
    }

    func testWrongSizeAndColourForGrayAreErrorsBeforeDecoding() throws {
        try write("img/c.png", base64: Self.rgb2x2)
        let url = try csv("file,kind\nimg/c.png,0\n")
        assertFails(url, shape: [3, 4, 4], ["the image is 2×2 (width×height) but input.shape wants 4×4"])
        assertFails(url, shape: [1, 2, 2], ["in colour (RGB) but input.shape has 1 channel"])
        assertFails(url, shape: [2, 2, 2], ["1 (gray) or 3 (RGB) channels"])
        assertFails(url, shape: [12], ["[channels, height, width]"])
        XCTAssertThrowsError(try ImageFolderDataset.load(url: url, fileColumn: "path", shape: [3, 2, 2],
                                                         labelColumns: [])) { error in
            XCTAssertTrue("\(error)".contains("no image file column 'path'"), "\(error)")
        }
    }

    /// A PNG header claiming 100000×100000 pixels is refused from its header, before any allocation.
    func testAHugeClaimedSizeIsRefusedFromTheHeader() throws {
        var png = Data(base64Encoded: Self.rgb2x2)!
        let width = UInt32(100_000).bigEndian, height = UInt32(100_000).bigEndian
        withUnsafeBytes(of: width) { png.replaceSubrange(16..<20, with: $0) }
        withUnsafeBytes(of: height) { png.replaceSubrange(20..<24, with: $0) }
        try png.write(to: directory.appendingPathComponent("img/bomb.png"))
        assertFails(try csv("file,kind\nimg/bomb.png,0\n"), shape: [3, 2, 2], ["img/bomb.png"])
    }
}
