import XCTest
@testable import CanopyTrain

/// Reading safetensors from disk: the header is checked against the file's size before any tensor is read, each
/// tensor is read straight into its array, and files that cannot be checkpoints get clear errors.
final class SafeTensorsReadingTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("canopy-st-read-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func readError(_ url: URL) -> String {
        do {
            _ = try SafeTensorsFile.read(from: url)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// A file of `size` bytes that starts with `prefix` and is sparse after it (zeros that take no disk space).
    private func sparseFile(_ name: String, prefix: [UInt8], size: Int) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(prefix).write(to: url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        return url
    }

    /// The header of a file holding one F32 tensor `w` of `count` values, padded to a multiple of 8.
    private func header(count: Int) -> [UInt8] {
        var h = Array(#"{"w":{"dtype":"F32","shape":[\#(count)],"data_offsets":[0,\#(4 * count)]}}"#.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        return withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h
    }

    /// The peak resident memory of this process while `body` runs, in bytes, from Linux's VmHWM after resetting
    /// it (`/proc/self/clear_refs`); `nil` where that is not possible.
    private func peakMemory(during body: () throws -> Void) rethrows -> Int? {
        func highWaterMark() -> Int? {
            guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                  let kB = Int(line.split(separator: " ")[1]) else { return nil }
            return kB * 1024
        }
        guard (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil,
              highWaterMark() != nil else {
            try body()
            return nil
        }
        try body()
        return highWaterMark()
    }

    private func residentMemory() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? "VmRSS: 0 kB"
        return (Int(line.split(separator: " ")[1]) ?? 0) * 1024
    }

    func testReadingAFileGivesTheSameErrorsAsDecodingItsBytes() throws {
        let good = try SafeTensorsFile(tensors: [(name: "a", shape: [2], values: [1, 2]),
                                                 (name: "b", shape: [1], values: [3])]).encoded()
        let damaged: [[UInt8]] = [
            [], Array(good[0..<5]), Array(good[0..<20]), [0, 0, 0, 0, 0, 0, 0, 1] + [UInt8](repeating: 0x20, count: 8),
            [1, 0, 0, 0, 0, 0, 0, 0, 0x7B], Array(good.dropLast(4)), good + [0, 0, 0, 0], good,
        ]
        for (k, bytes) in damaged.enumerated() {
            let url = directory.appendingPathComponent("d\(k).safetensors")
            try Data(bytes).write(to: url)
            let decoded: String
            do {
                _ = try SafeTensorsFile.decode(bytes, file: url.relativePath)
                decoded = "no error"
            } catch {
                decoded = "\(error)"
            }
            XCTAssertEqual(readError(url), decoded, "case \(k)")
        }
        let url = directory.appendingPathComponent("good.safetensors")
        try Data(good).write(to: url)
        let read = try SafeTensorsFile.read(from: url)
        XCTAssertEqual(read.tensors.map(\.name), ["a", "b"])
        XCTAssertEqual(read.tensors.map(\.values), [[1, 2], [3]])
    }

    func testFilesThatAreNotCheckpointsGetClearErrors() throws {
        XCTAssertEqual(readError(directory), "\(directory.relativePath): is a directory, not a safetensors file")
        XCTAssertEqual(readError(URL(fileURLWithPath: "/dev/null")),
                       "/dev/null: is a character device, not a safetensors file")
        let missing = directory.appendingPathComponent("none/x.safetensors")
        XCTAssertEqual(readError(missing), "\(missing.relativePath): no such file")
    }

    func testAnUnreadableFileSaysPermissionDenied() throws {
        try XCTSkipIf(getuid() == 0, "root reads files whatever their permissions")
        let url = directory.appendingPathComponent("locked.safetensors")
        try SafeTensorsFile(tensors: [(name: "a", shape: [1], values: [1])]).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: url.path)
        XCTAssertEqual(readError(url), "\(url.relativePath): permission denied: the file cannot be opened for reading")
    }

    func testTheHeaderIsCheckedBeforeTheDataIsRead() throws {
        // 512 MiB of zeros: the header length is 0, which is refused before the rest is touched.
        let zeros = try sparseFile("zeros.safetensors", prefix: [], size: 512 << 20)
        var message = ""
        let peak = peakMemory { message = readError(zeros) }
        XCTAssertEqual(message, "\(zeros.relativePath): header length 0 is too small for a JSON object")
        // A header promising more data than the file holds is refused without reading the data either.
        let promise = header(count: 128 << 20)
        let short = try sparseFile("short.safetensors", prefix: promise, size: 256 << 20)
        XCTAssertEqual(readError(short), "\(short.relativePath): tensor 'w': data_offsets [0, 536870912] are outside "
                           + "the \((256 << 20) - promise.count) data bytes")
        let peakText = peak.map { "\($0 >> 20) MiB" } ?? "unknown"
        print("peak while refusing 512 MiB of zeros: \(peakText)")
        if let peak { XCTAssertLessThan(peak, residentMemory() + (64 << 20), "peak \(peakText)") }
    }

    func testTensorsAreReadStraightIntoTheirArrays() throws {
        // One 128 MiB tensor of zeros: reading it should take about 128 MiB, not the file's bytes as well.
        let count = 32 << 20
        let h = header(count: count)
        let url = try sparseFile("big.safetensors", prefix: h, size: h.count + 4 * count)
        let before = residentMemory()
        var file: SafeTensorsFile?
        let peak = try peakMemory { file = try SafeTensorsFile.read(from: url) }
        XCTAssertEqual(file?.tensors.first?.values.count, count)
        XCTAssertEqual(file?.tensors.first?.values.last, 0)
        file = nil
        guard let peak else { throw XCTSkip("no /proc/self/clear_refs to measure the peak") }
        print("peak growth reading a 128 MiB tensor: \((peak - before) >> 20) MiB")
        XCTAssertLessThan(peak - before, 4 * count + 4 * count / 4, "peak growth \((peak - before) >> 20) MiB")
    }
}
