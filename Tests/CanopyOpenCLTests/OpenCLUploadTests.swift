import CanopyCore
import CanopyOpenCL
import CanopyTestSupport
import XCTest

/// Uploads do not wait for the device (they are written from host staging copies): the caller's memory may be
/// reused at once, and every kernel still sees the values uploaded before it in queue order.
final class OpenCLUploadTests: XCTestCase {
    /// 300 uploads (more than may be pending at once) from one host array overwritten after each call, into
    /// consecutive slices of one buffer and, interleaved, through a kernel into another: everything lands intact.
    func testUploadsFromReusedMemoryLandInOrder() throws {
        let backend = try OpenCLTesting.backend()
        let size = 33, count = 300
        let whole = try backend.makeBuffer(count: size * count)
        let x = try backend.makeBuffer(count: size), copied = try backend.makeBuffer(count: size * count)
        var values = [Float](repeating: 0, count: size)
        for k in 0..<count {
            for i in 0..<size { values[i] = Float(k * size + i) }
            try values.withUnsafeBufferPointer { try backend.upload($0, to: whole, offset: k * size) }
            try backend.upload(values, to: x)
            // x copied into a slice of `copied` by a kernel, right after x's upload and before the next one.
            try backend.execute(.copyBlock(x: x, y: copied, rows: 1, cols: size, xStride: size, xOffset: 0,
                                           yStride: size, yOffset: k * size))
            for i in 0..<size { values[i] = -1 }   // the caller's memory is free again
        }
        let expected = (0..<(size * count)).map(Float.init)
        XCTAssertEqual(try backend.download(whole), expected)
        XCTAssertEqual(try backend.download(copied), expected)
    }

    /// A large upload (beyond the bytes allowed in flight) after small ones still lands, and a download right
    /// after an upload reads the uploaded values.
    func testLargeUploadAndImmediateDownload() throws {
        let backend = try OpenCLTesting.backend()
        let big = (0..<(17 << 20)).map { Float($0 % 1009) }   // 68 MB
        let buffer = try backend.makeBuffer(count: big.count)
        try backend.upload([1, 2, 3], to: buffer)
        try backend.upload(big, to: buffer)
        XCTAssertEqual(try backend.download(buffer), big)
        try backend.upload([5, 6, 7], to: buffer)
        var head = [Float](repeating: 0, count: 4)
        try head.withUnsafeMutableBufferPointer { try backend.download(buffer, offset: 0, into: $0) }
        XCTAssertEqual(head, [5, 6, 7, 3])
    }
}
