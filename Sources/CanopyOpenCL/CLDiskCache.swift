import CanopyCore
import Foundation

/// Program binaries on disk, one file per (device, driver, options, source) key.
///
/// File layout: the 8 bytes `CNPYCLB1`, the FNV-1a 64 of everything after byte 16 (little endian), the byte
/// length of the kernel-name list (UInt32 LE), the names of the kernels that had run when the binary was
/// saved (newline separated), then the driver's binary. A file that is short, damaged or rejected by the driver
/// is ignored and replaced; writes go to a temporary file that is then renamed, so readers never see half a file.
struct CLDiskCache {
    let directory: URL

    /// The default directory: `CANOPY_CACHE_DIR`, else `$XDG_CACHE_HOME/canopy/kernels`, else
    /// `~/.cache/canopy/kernels`.
    static func defaultDirectory(environment: [String: String]) -> URL {
        if let dir = environment["CANOPY_CACHE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("canopy/kernels")
        }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache/canopy/kernels")
    }

    /// The file for one program: `<file stem>-<16 hex digits>.bin` for its binary, `….compiled` for the record
    /// that the driver's own cache holds its kernels (the same layout with an empty binary).
    func url(file: String, key: UInt64, binary: Bool = true) -> URL {
        let stem = file.hasSuffix(".cl") ? String(file.dropLast(3)) : file
        let hex = String(key, radix: 16)
        let name = "\(stem)-\(String(repeating: "0", count: 16 - hex.count))\(hex)"
        return directory.appendingPathComponent(name + (binary ? ".bin" : ".compiled"))
    }

    private static let magic = Array("CNPYCLB1".utf8)

    /// The saved kernel names and binary, or nil when the file is missing, short or damaged.
    func read(_ url: URL) -> (kernels: Set<String>, binary: [UInt8])? {
        guard let data = try? Data(contentsOf: url), data.count > 20 else { return nil }
        let bytes = [UInt8](data)
        guard Array(bytes[0..<8]) == CLDiskCache.magic else { return nil }
        let stored = bytes[8..<16].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard FNV1a64.hash(bytes[16...]) == stored else { return nil }
        let nameLength = bytes[16..<20].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard 20 + nameLength <= bytes.count else { return nil }
        let names = String(decoding: bytes[20..<(20 + nameLength)], as: UTF8.self)
        let kernels = Set(names.split(separator: "\n").map(String.init))
        return (kernels, Array(bytes[(20 + nameLength)...]))
    }

    /// Writes atomically; throws when the directory cannot be made or the file cannot be written.
    func write(_ url: URL, kernels: Set<String>, binary: [UInt8]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let names = Array(kernels.sorted().joined(separator: "\n").utf8)
        var body: [UInt8] = []
        body.reserveCapacity(4 + names.count + binary.count)
        let length = UInt32(names.count)
        body += (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
        body += names
        body += binary
        let checksum = FNV1a64.hash(body)
        let header = CLDiskCache.magic + (0..<8).map { UInt8(truncatingIfNeeded: checksum >> (8 * UInt64($0))) }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try Data(header + body).write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "rename to \(url.path): \(reason)"])
        }
    }
}
