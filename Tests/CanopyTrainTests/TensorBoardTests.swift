import Foundation
import XCTest
@testable import CanopyTrain

/// CRC-32C against published vectors, TFRecord framing, and event files read back record by record.
final class TensorBoardTests: XCTestCase {
    /// RFC 3720 appendix B.4's vectors and the usual check value.
    func testCRC32CMatchesKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }), 0x113F_DB5C)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        // TensorFlow's masked CRC of the empty string: rotate right by 15, add 0xa282ead8.
        XCTAssertEqual(CRC32C.masked([UInt8]()), 0xA282_EAD8)
    }

    func testTFRecordFramesLengthDataAndTheirMaskedCRCs() {
        let record = tfRecord(Array("abc".utf8))
        XCTAssertEqual(record.count, 8 + 4 + 3 + 4)
        XCTAssertEqual(Array(record[0..<8]), [3, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Self.uint32(record, at: 8), CRC32C.masked(record[0..<8]))
        XCTAssertEqual(Array(record[12..<15]), Array("abc".utf8))
        XCTAssertEqual(Self.uint32(record, at: 15), CRC32C.masked(Array("abc".utf8)))
    }

    func testHistogramCountsEveryFiniteValueOnce() {
        let histogram = TensorBoardWriter.histogram([-1, 0, 0.5, 1, 1, .nan, 3], buckets: 4)
        XCTAssertEqual(histogram.min, -1)
        XCTAssertEqual(histogram.max, 3)
        XCTAssertEqual(histogram.num, 6)
        XCTAssertEqual(histogram.bucketLimit, [0, 1, 2, 3])
        XCTAssertEqual(histogram.bucket, [2, 3, 0, 1], "(−1…0], (0…1], (1…2], (2…3]")
        XCTAssertEqual(histogram.sum, 4.5)
        XCTAssertEqual(histogram.sumSquares, 12.25)
        let constant = TensorBoardWriter.histogram([2, 2, 2])
        XCTAssertEqual(constant.bucketLimit, [2])
        XCTAssertEqual(constant.bucket, [3])
    }

    func testEventFileReadsBackRecordByRecordAndANewWriterStartsANewFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-tb-\(UUID())/tb")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let time = Date(timeIntervalSince1970: 1_700_000_000)
        let writer = try TensorBoardWriter(directory: directory, wallTime: time)
        XCTAssertTrue(writer.url.lastPathComponent.hasPrefix("events.out.tfevents.1700000000."), writer.url.path)
        try writer.write(step: 1, scalars: [("digit/train/loss", 0.5), ("learning_rate", 0.001)],
                         histograms: [("parameters/w", [1, 2, 3])], wallTime: time)
        // Everything is in the file as soon as write returns (read before the writer is released).
        let events = try Self.events(in: writer.url)
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[1].step, 1)
        XCTAssertEqual(events[1].wallTime, 1_700_000_000)
        XCTAssertEqual(events[1].summary.value.map(\.tag), ["digit/train/loss", "learning_rate", "parameters/w"])
        XCTAssertEqual(events[1].summary.value[1].simpleValue, 0.001)
        XCTAssertEqual(events[1].summary.value[2].histo.num, 3)

        let second = try TensorBoardWriter(directory: directory, wallTime: time)
        XCTAssertNotEqual(second.url, writer.url, "a resumed run writes a new file beside the old one")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).count, 2)
    }

    /// Splits a file into TFRecord records, checking both CRCs of each, and decodes them as events.
    static func events(in url: URL) throws -> [Tensorboard_Event] {
        let bytes = [UInt8](try Data(contentsOf: url))
        var events: [Tensorboard_Event] = [], at = 0
        while at < bytes.count {
            XCTAssertGreaterThanOrEqual(bytes.count - at, 16, "a record cut short")
            let length = Int(bytes[at..<at + 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) })
            XCTAssertEqual(uint32(bytes, at: at + 8), CRC32C.masked(bytes[at..<at + 8]), "length CRC")
            let data = Array(bytes[at + 12..<at + 12 + length])
            XCTAssertEqual(uint32(bytes, at: at + 12 + length), CRC32C.masked(data), "data CRC")
            events.append(try Tensorboard_Event(serializedBytes: data))
            at += 16 + length
        }
        return events
    }

    static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
}
