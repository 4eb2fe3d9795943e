import CanopyCore
import Foundation

/// Measured tunables for one device, kept beside the program binaries in the kernel cache directory.
///
/// File: `tunables-<16 hex digits>.json`, the digits the FNV-1a 64 of the device's name, vendor, driver version
/// and OpenCL version, so each device and driver has its own. Contents (JSON):
///
/// ```json
/// {"format": 1, "kernels": "<16 hex: FNV-1a 64 of the kernel sources>", "device": "<summary>",
///  "written": "2026-12-01T21:00:00Z", "tunables": {"matmulRows": 8, "matmulColumns": 16, ...}}
/// ```
///
/// A file of another format, made from other kernel sources, damaged, or with values the device cannot run
/// (``CLTunables/problems(on:)``) is ignored, and the next tune replaces it. Writes go to a temporary file that
/// is then renamed, so a reader never sees half a file.
struct CLTuningFile: Codable, Equatable {
    /// The layout version this code reads and writes.
    static let currentFormat = 1

    var format: Int
    /// The kernel sources' fingerprint (``KernelSources/fingerprint()``): tunables measured on other kernels
    /// are not trusted.
    var kernels: String
    /// The device's one-line summary, for people reading the file.
    var device: String
    /// When the tune finished (ISO 8601), for people reading the file.
    var written: String
    var tunables: CLTunables

    /// The tuning file of `info`'s device in `directory`.
    static func url(directory: URL, device info: OpenCLDeviceInfo) -> URL {
        var hash = FNV1a64()
        for field in [info.name, info.vendor, info.driverVersion, info.deviceVersion] { hash.add(field: field) }
        let hex = String(hash.value, radix: 16)
        return directory.appendingPathComponent("tunables-\(String(repeating: "0", count: 16 - hex.count))\(hex).json")
    }

    /// The tunables stored at `url` if the file exists, is intact, was made by this format from `kernels`, and
    /// its values suit `info`'s device; nil otherwise (never throws: a bad file only means the defaults).
    static func load(_ url: URL, kernels: String, device info: OpenCLDeviceInfo) -> CLTunables? {
        guard let data = try? Data(contentsOf: url),
              let file = try? JSONDecoder().decode(CLTuningFile.self, from: data),
              file.format == currentFormat, file.kernels == kernels,
              file.tunables.problems(on: info).isEmpty else { return nil }
        return file.tunables
    }

    /// Writes `tunables` for `info`'s device into `directory` atomically and returns the file's URL.
    static func write(_ tunables: CLTunables, directory: URL, kernels: String, device info: OpenCLDeviceInfo) throws -> URL {
        let file = CLTuningFile(format: currentFormat, kernels: kernels, device: info.summary,
                                written: ISO8601DateFormatter().string(from: Date()), tunables: tunables)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(file)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = self.url(directory: directory, device: info)
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try data.write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw BackendError.deviceFailure(backend: "opencl", message: "cannot write the tuning file \(url.path): \(reason)")
        }
        return url
    }
}

extension KernelSources {
    /// 16 hex digits naming the kernel sources a backend compiles (every kernel file and `common.cl`).
    func fingerprint() throws -> String {
        var hash = FNV1a64()
        hash.add(field: "canopy-kernels-1")
        for file in ["common.cl"] + CLKernelFile.allCases.map(\.rawValue).sorted() {
            hash.add(field: file)
            hash.add(field: try source(of: file))
        }
        let hex = String(hash.value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
