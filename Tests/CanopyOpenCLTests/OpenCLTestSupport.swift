import CanopyCore
import CanopyOpenCL
import Foundation
import XCTest

/// Backends for the OpenCL tests: one shared instance (programs compile once per test process) with a
/// temporary disk cache, so that the tests never touch the user's cache directory.
enum OpenCLTesting {
    /// A fresh temporary directory, removed by the caller when it is done.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("canopy-opencl-tests-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    // `nonisolated(unsafe)`: a backend is used by one thread at a time, and XCTest runs the tests one after another.
    nonisolated(unsafe) private static let shared: Result<OpenCLBackend, Error> = Result {
        try OpenCLBackend(device: .environment,
                          options: OpenCLBackendOptions(cacheDirectory: try temporaryDirectory("shared-cache")))
    }

    /// The same device with the other tuning family's tunables, so that both families' kernel variants
    /// (register-block sizes, vector widths, row teams, transposes) are tested on whatever device exists.
    nonisolated(unsafe) private static let otherTuning: Result<OpenCLBackend, Error> = Result {
        let automatic = try shared.get()
        return try OpenCLBackend(device: .index(automatic.deviceInfo.index),
                                 options: OpenCLBackendOptions(cacheDirectory: try temporaryDirectory("other-cache"),
                                                               tuning: automatic.deviceInfo.type == "GPU" ? .cpu : .gpu))
    }

    /// The shared backend, or an XCTSkip (with the reason printed) when this machine has no OpenCL device.
    static func backend() throws -> OpenCLBackend {
        try skipWithoutDevice { try shared.get() }
    }

    /// The shared backend with the tunables of the other device family (GPU tunables on a CPU driver).
    static func backendWithOtherTuning() throws -> OpenCLBackend {
        try skipWithoutDevice { try otherTuning.get() }
    }

    /// Runs `body`, turning "no OpenCL device" into an XCTSkip whose reason is printed.
    static func skipWithoutDevice<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let BackendError.deviceUnavailable(message) where message.hasPrefix("no OpenCL platform or device") {
            print("skipping: \(message)")
            throw XCTSkip("no OpenCL device: \(message)")
        }
    }
}

/// A test case that makes temporary directories (disk caches, kernel sources) and removes them after each test.
class OpenCLScratchTestCase: XCTestCase {
    private var directories: [URL] = []

    override func tearDown() {
        for url in directories { try? FileManager.default.removeItem(at: url) }
        directories = []
        super.tearDown()
    }

    /// A fresh temporary directory, removed after the test.
    func temporaryDirectory(_ label: String) throws -> URL {
        let url = try OpenCLTesting.temporaryDirectory(label)
        directories.append(url)
        return url
    }
}
