import CanopyCore
import CanopyCPU
import CanopyOpenCL
import Foundation
import XCTest

/// The host layer: build errors, kernel sources from disk, the disk cache of program binaries, device
/// selection, and argument checking.
final class OpenCLHostLayerTests: OpenCLScratchTestCase {
    /// A kernel directory holding `files` (name → source); common.cl is required by every program.
    private func kernelDirectory(_ files: [String: String]) throws -> URL {
        let url = try temporaryDirectory("kernels")
        for (name, text) in files.merging(["common.cl": "// no shared helpers\n"], uniquingKeysWith: { a, _ in a }) {
            try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return url
    }

    private func backend(kernels: URL? = nil, cache: URL?) throws -> OpenCLBackend {
        try OpenCLTesting.skipWithoutDevice {
            try OpenCLBackend(device: .environment, options: OpenCLBackendOptions(kernelDirectory: kernels, cacheDirectory: cache,
                                                                                  binaryCaching: .always))
        }
    }

    private func fillAndRead(_ backend: OpenCLBackend, value: Float, count: Int = 5) throws -> [Float] {
        let y = try backend.makeBuffer(count: count)
        try backend.execute(.fill(y: y, value: value, count: count))
        return try backend.download(y)
    }

    func testBrokenSourceThrowsWithBuildLogAndFileName() throws {
        let broken = """
            __kernel void canopy_fill(__global float* y, const float value, const int count) {
                y[get_global_id(0)] = value + canopy_undeclared_thing;
            }
            """
        let backend = try backend(kernels: try kernelDirectory(["elementwise.cl": broken]), cache: nil)
        XCTAssertThrowsError(try fillAndRead(backend, value: 1)) { error in
            let text = String(describing: error)
            print("build failure reported as:\n\(text)")
            XCTAssertTrue(text.contains("elementwise.cl"), "the file name is missing")
            XCTAssertTrue(text.contains("CL_BUILD_PROGRAM_FAILURE"), "the status name is missing")
            XCTAssertTrue(text.contains("canopy_undeclared_thing"), "the compiler's message is missing")
            XCTAssertTrue(text.contains("-cl-std=CL1.2"), "the build options are missing")
        }
    }

    func testKernelDirectoryReplacesEmbeddedSources() throws {
        // A fill that writes value + 1 can only come from this directory.
        let marked = """
            __kernel void canopy_fill(__global float* y, const float value, const int count) {
                const int i = (int)get_global_id(0);
                if (i < count) y[i] = value + 1.0f;
            }
            """
        let backend = try backend(kernels: try kernelDirectory(["elementwise.cl": marked]), cache: nil)
        XCTAssertEqual(try fillAndRead(backend, value: 3), [4, 4, 4, 4, 4])
        // A file missing from the directory is an error naming it, not a silent use of the embedded copy.
        let x = try backend.makeBuffer([1, 2]), y = try backend.makeBuffer(count: 2)
        XCTAssertThrowsError(try backend.execute(.softmax(x: x, y: y, rows: 1, cols: 2))) { error in
            print("missing kernel file reported as: \(error)")
            XCTAssertTrue(String(describing: error).contains("softmax.cl"))
        }
    }

    func testSecondBackendLoadsBinariesFromDiskCache() throws {
        let cache = try temporaryDirectory("cache")
        let first = try backend(cache: cache)
        XCTAssertEqual(try fillAndRead(first, value: 2), [2, 2, 2, 2, 2])
        print("first backend: \(first.compileStatistics)")
        XCTAssertEqual(first.compileStatistics.builtFromSource, 1)
        XCTAssertEqual(first.compileStatistics.loadedFromBinary, 0)
        XCTAssertEqual(first.compileStatistics.binariesSaved, 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".bin") }
        XCTAssertEqual(files.count, 1, "one cached program expected, found \(files)")
        XCTAssertTrue(files.first?.hasPrefix("elementwise-") ?? false)

        let second = try backend(cache: cache)
        XCTAssertEqual(try fillAndRead(second, value: 3), [3, 3, 3, 3, 3])
        print("second backend: \(second.compileStatistics)")
        XCTAssertEqual(second.compileStatistics.builtFromSource, 0, "the second backend recompiled")
        XCTAssertEqual(second.compileStatistics.loadedFromBinary, 1)
        XCTAssertEqual(second.compileStatistics.binariesSaved, 0, "nothing new ran, so nothing should be re-saved")
    }

    func testDamagedCacheFilesAreIgnoredAndRebuilt() throws {
        let cache = try temporaryDirectory("damaged")
        let first = try backend(cache: cache)
        _ = try fillAndRead(first, value: 1)
        let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: cache.path).first { $0.hasSuffix(".bin") })
        let file = cache.appendingPathComponent(name)
        let original = try Data(contentsOf: file)

        // 1. Truncated: fails the container's checksum.
        try original.prefix(original.count / 2).write(to: file)
        let truncated = try backend(cache: cache)
        XCTAssertEqual(try fillAndRead(truncated, value: 5), [5, 5, 5, 5, 5])
        XCTAssertEqual(truncated.compileStatistics.rejectedCacheFiles, 1)
        XCTAssertEqual(truncated.compileStatistics.builtFromSource, 1)
        XCTAssertEqual(truncated.compileStatistics.binariesSaved, 1, "the rebuilt binary should replace the damaged file")

        // 2. A well-formed container around bytes the driver cannot load (a stale or foreign binary).
        try CacheFileFormat.container(kernels: ["canopy_fill"], binary: Array("not a device binary".utf8)).write(to: file)
        let stale = try backend(cache: cache)
        XCTAssertEqual(try fillAndRead(stale, value: 6), [6, 6, 6, 6, 6])
        print("after a foreign binary: \(stale.compileStatistics)")
        XCTAssertEqual(stale.compileStatistics.rejectedCacheFiles, 1)
        XCTAssertEqual(stale.compileStatistics.builtFromSource, 1)

        // 3. The file written by the rebuild loads again.
        let healed = try backend(cache: cache)
        XCTAssertEqual(try fillAndRead(healed, value: 7), [7, 7, 7, 7, 7])
        XCTAssertEqual(healed.compileStatistics.loadedFromBinary, 1)
        XCTAssertEqual(healed.compileStatistics.builtFromSource, 0)
    }

    func testDeviceSelectionByIndexAndName() throws {
        let devices = try OpenCLTesting.skipWithoutDevice { try OpenCLBackend.availableDevices() }
        XCTAssertFalse(devices.isEmpty)
        for device in devices { print(device) }
        let first = devices[0]
        XCTAssertEqual(try OpenCLBackend(device: .index(0)).deviceInfo, first)
        XCTAssertEqual(try OpenCLBackend(device: .platformDevice(platform: first.platformIndex,
                                                                 device: first.deviceIndex)).deviceInfo, first)
        XCTAssertEqual(try OpenCLBackend(device: OpenCLDeviceSelector(parsing: first.selector)).deviceInfo, first)
        // A name substring, in the other case: matching ignores case.
        let fragment = String(first.name.prefix(4)).uppercased()
        XCTAssertEqual(try OpenCLBackend(device: .nameContains(fragment)).deviceInfo.name,
                       devices.first { $0.name.uppercased().contains(fragment) }?.name)
        // By type: the first device of that type that is not a simulator (Oclgrind, when registered, is every type).
        if let real = devices.first(where: { !$0.isSimulator }) {
            XCTAssertEqual(try OpenCLBackend(device: .type(real.type.lowercased())).deviceInfo, real)
        }

        XCTAssertEqual(OpenCLDeviceSelector(parsing: "1"), .index(1))
        XCTAssertEqual(OpenCLDeviceSelector(parsing: "0:1"), .platformDevice(platform: 0, device: 1))
        XCTAssertEqual(OpenCLDeviceSelector(parsing: "pthread"), .nameContains("pthread"))
        XCTAssertEqual(OpenCLDeviceSelector(parsing: "GPU"), .type("gpu"))
        XCTAssertEqual(OpenCLDeviceSelector(parsing: ""), .best)
    }

    func testSelectorMatchingNothingListsTheDevices() throws {
        let devices = try OpenCLTesting.skipWithoutDevice { try OpenCLBackend.availableDevices() }
        for selector in [OpenCLDeviceSelector.nameContains("no-such-device-xyz"), .index(devices.count),
                         .platformDevice(platform: 99, device: 0)] {
            XCTAssertThrowsError(try OpenCLBackend(device: selector)) { error in
                guard case let BackendError.deviceUnavailable(message) = error else {
                    return XCTFail("expected deviceUnavailable, got \(error)")
                }
                print("\(selector): \(message)")
                XCTAssertTrue(message.contains(devices[0].name), "the message should list the devices")
            }
        }
    }

    func testBadArgumentsAreErrorValues() throws {
        let backend = try OpenCLTesting.backend()
        let small = try backend.makeBuffer(count: 3), big = try backend.makeBuffer(count: 8)
        XCTAssertThrowsError(try backend.execute(.copy(x: small, y: big, count: 8))) { error in
            XCTAssertEqual(error as? BackendError,
                           .invalidArguments(kernel: "copy", reason: "x holds 3 elements but the call needs 8"))
        }
        XCTAssertThrowsError(try backend.execute(.fill(y: big, value: 0, count: 0)))
        XCTAssertThrowsError(try backend.makeBuffer(count: 0))
        XCTAssertThrowsError(try backend.execute(.matmul(a: big, b: big, c: big, shape: MatmulShape(m: 3, n: 3, k: 3))))
        let foreign = try CPUBackend().makeBuffer(count: 8)
        XCTAssertThrowsError(try backend.execute(.copy(x: foreign, y: big, count: 8))) { error in
            XCTAssertEqual(error as? BackendError, .foreignBuffer(backend: "opencl"))
        }
        var out = [Float](repeating: 0, count: 4)
        XCTAssertThrowsError(try out.withUnsafeMutableBufferPointer { try backend.download(small, offset: 1, into: $0) })
    }

    func testWorkIsEnqueuedAndFinishedOnDownload() throws {
        let backend = try OpenCLTesting.backend()
        let count = 1000
        let x = try backend.makeBuffer((0..<count).map(Float.init)), y = try backend.makeBuffer(count: count)
        let before = backend.launchCount
        for _ in 0..<50 { try backend.execute(.scale(x: x, y: y, alpha: 1.5, count: count)); try backend.execute(.copy(x: y, y: x, count: count)) }
        XCTAssertEqual(backend.launchCount - before, 100)
        let result = try backend.download(x)
        let expected = Float(pow(1.5, 50.0)) * 999
        print("after 100 queued launches: x[999] = \(result[999]), expected \(expected)")
        XCTAssertEqual(result[999], expected, accuracy: expected * 1e-5)
    }
}

/// The disk cache's file layout, written independently of the backend's code (see CLDiskCache.swift).
enum CacheFileFormat {
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    static func container(kernels: [String], binary: [UInt8]) -> Data {
        let names = Array(kernels.joined(separator: "\n").utf8)
        let body = (0..<4).map { UInt8(truncatingIfNeeded: UInt32(names.count) >> (8 * $0)) } + names + binary
        let sum = fnv1a(body)
        return Data(Array("CNPYCLB1".utf8) + (0..<8).map { UInt8(truncatingIfNeeded: sum >> (8 * UInt64($0))) } + body)
    }
}
