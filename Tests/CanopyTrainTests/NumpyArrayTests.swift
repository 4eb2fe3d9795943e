@testable import CanopyTrain
import Foundation
import XCTest

/// `.npy` files: NumPy's own output for several dtypes and versions, hand-made headers, and damaged files.
final class NumpyArrayTests: XCTestCase {
    /// `np.save` of `np.array([[1.5, -2, 3], [4, 5, 6.25]], dtype='<f4')`.
    static let f4 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAQEAAAIBAAACgQAAAyEA="
    /// `format.write_array(..., version=(2, 0))` of `np.arange(8, dtype='u1').reshape(2, 2, 2)`.
    static let u1v2 = "k05VTVBZAgB0AAAAeydkZXNjcic6ICd8dTEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMiwgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAQIDBAUGBw=="
    /// `np.save` of `np.array([3, -1, 7], dtype='<i8')`.
    static let i8 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoDAAAAAAAAAP//////////BwAAAAAAAAA="
    /// `np.save` of `np.array([0.5, nan], dtype='>f8')`.
    static let f8be = "k05VTVBZAQB2AHsnZGVzY3InOiAnPmY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/4AAAAAAAAH/4AAAAAAAA"

    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func file(_ name: String, _ data: Data) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    /// A version 1.0 file with `header` (padded as NumPy pads it) and `payload`.
    private func npy(_ header: String, _ payload: [UInt8], version: UInt8 = 1) -> Data {
        var text = Array(header.utf8)
        let prefix = version == 1 ? 10 : 12
        while (prefix + text.count + 1) % 64 != 0 { text.append(0x20) }
        text.append(0x0A)
        var data = Data([0x93] + Array("NUMPY".utf8) + [version, 0])
        if version == 1 {
            data.append(contentsOf: [UInt8(text.count & 255), UInt8(text.count >> 8)])
        } else {
            data.append(contentsOf: (0..<4).map { UInt8((text.count >> (8 * $0)) & 255) })
        }
        return data + Data(text) + Data(payload)
    }

    func testNumPysOwnFilesReadInEveryDtypeAndVersion() throws {
        let f4 = try NumpyArray.read(url: try file("f4.npy", Data(base64Encoded: Self.f4)!))
        XCTAssertEqual(f4.shape, [2, 3])
        XCTAssertEqual(f4.descr, "<f4")
        XCTAssertEqual(f4.values, [1.5, -2, 3, 4, 5, 6.25])
        let u1 = try NumpyArray.read(url: try file("u1.npy", Data(base64Encoded: Self.u1v2)!))
        XCTAssertEqual(u1.shape, [2, 2, 2])
        XCTAssertEqual(u1.values, [0, 1, 2, 3, 4, 5, 6, 7])
        XCTAssertEqual(try NumpyArray.read(url: try file("i8.npy", Data(base64Encoded: Self.i8)!)).values, [3, -1, 7])
        let f8 = try NumpyArray.read(url: try file("f8.npy", Data(base64Encoded: Self.f8be)!))
        XCTAssertEqual(f8.values.first, 0.5)
        XCTAssertTrue(f8.values[1].isNaN)
    }

    func testHandWrittenHeadersInOtherOrdersQuotesAndVersions() throws {
        let i2 = npy("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<i2\"}", [0xFE, 0xFF, 0x05, 0x00], version: 3)
        XCTAssertEqual(try NumpyArray.read(url: try file("i2.npy", i2)).values, [-2, 5])
        let b1 = npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", [0, 1, 2])
        XCTAssertEqual(try NumpyArray.read(url: try file("b1.npy", b1)).values, [0, 1, 1])
        let scalar = npy("{'descr': '<u4', 'fortran_order': False, 'shape': (), }", [1, 1, 0, 0])
        let read = try NumpyArray.read(url: try file("s.npy", scalar))
        XCTAssertEqual(read.shape, [])
        XCTAssertEqual(read.values, [257])
    }

    private func assertFails(_ data: Data, _ fragment: String, line: UInt = #line) throws {
        let url = try file("bad.npy", data)
        XCTAssertThrowsError(try NumpyArray.read(url: url), line: line) { error in
            XCTAssertTrue(error is DataError, line: line)
            XCTAssertTrue("\(error)".contains(fragment), "'\(fragment)' not in: \(error)", line: line)
            XCTAssertTrue("\(error)".contains("bad.npy"), "\(error)", line: line)
        }
    }

    func testDamagedFilesGiveClearErrors() throws {
        let good = Data(base64Encoded: Self.f4)!
        try assertFails(good.prefix(good.count - 3), "needs 24 bytes of data but the file has 21 (is it truncated?)")
        try assertFails(good + Data([0]), "needs 24 bytes of data but the file has 25")
        try assertFails(good.prefix(40), "the .npy header claims 118 bytes, more than the file holds")
        try assertFails(good.prefix(5), "not a NumPy .npy file")
        try assertFails(Data("a,b\n1,2\n".utf8), "not a NumPy .npy file")
        var version = good
        version[6] = 9
        try assertFails(version, "unknown .npy format version 9.0")
        try assertFails(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", [0, 0, 0, 0]), "fortran_order: True")
        try assertFails(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", [UInt8](repeating: 0, count: 8)),
                        "has dtype '<c8'")
        try assertFails(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0]),
                        "expected a string, True, False or a tuple at byte 10")
        try assertFails(npy("{'descr': '<f4', 'shape': (1,), }", [0, 0, 0, 0]), "lacks 'fortran_order'")
        try assertFails(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", [0, 0, 0, 0]),
                        "expected a string, True, False or a tuple")
        try assertFails(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, -2), }", []),
                        "a non-negative integer")
        try assertFails(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", []),
                        "too large to address")
        try assertFails(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,) ", [0, 0, 0, 0]), "expected '}'")
        try assertFails(npy("{'descr': '<f4, 'fortran_order': False}", []), "expected '}' at byte 17")
    }

    func testNumpyDatasetChecksShapesRowsAndFiniteness() throws {
        let features = try file("x.npy", Data(base64Encoded: Self.f4)!)
        let labels = try file("y.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }",
                                           Array((0..<2).flatMap { i -> [UInt8] in
                                               withUnsafeBytes(of: (i == 0 ? 1.0 : Double.nan).bitPattern.littleEndian, Array.init)
                                           })))
        let data = try NumpyDataset.load(features: features, labels: ["t": labels], shape: [3])
        XCTAssertEqual(data.rowCount, 2)
        XCTAssertEqual(data.features, [1.5, -2, 3, 4, 5, 6.25])
        XCTAssertEqual(data.labels["t"]?.present, [true, false])
        XCTAssertEqual(try NumpyDataset.load(features: features, labels: [:], shape: [1, 3]).featureNames,
                       ["[0,0]", "[0,1]", "[0,2]"])
        XCTAssertThrowsError(try NumpyDataset.load(features: features, labels: [:], shape: [2, 2])) { error in
            XCTAssertTrue("\(error)".contains("shape [2, 3]; input.shape [2, 2] needs [N, 2, 2]"), "\(error)")
        }
        let three = try file("z.npy", Data(base64Encoded: Self.i8)!)
        XCTAssertThrowsError(try NumpyDataset.load(features: features, labels: ["t": three], shape: [3])) { error in
            XCTAssertTrue("\(error)".contains("z.npy: column 't': the label array has shape [3]"), "\(error)")
        }
        let nan = try file("n.npy", Data(base64Encoded: Self.f8be)!)
        XCTAssertThrowsError(try NumpyDataset.load(features: nan, labels: [:], shape: [1])) { error in
            XCTAssertTrue("\(error)".contains("row 2: feature 0 is nan"), "\(error)")
        }
    }
}
