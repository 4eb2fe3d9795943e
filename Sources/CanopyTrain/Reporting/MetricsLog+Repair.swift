import Foundation

extension MetricsLog {
    /// What ``repair(url:throughEpoch:restoring:)`` changed.
    public struct Repair: Equatable, Sendable {
        /// Lines removed: epochs after the checkpoint's, a half-written last line, lines that are not JSON.
        public var droppedLines = 0
        /// Whether the checkpoint epoch's lines were missing and were written back from the checkpoint.
        public var restoredEpoch = false
    }

    /// Makes the log agree with the checkpoint a run resumes from, before any new line is appended.
    ///
    /// A run commits each epoch in order: parameters, checkpoint (holding that epoch's log lines), then the log
    /// lines. A kill or a full disk can therefore leave the log ahead of the checkpoint (lines of an epoch that
    /// will run again), behind it by the checkpoint's epoch, or ending in half a line. This keeps exactly the
    /// complete lines of epochs up to `epoch`, adds the checkpoint's copy of epoch `epoch`'s lines when the log
    /// lacks them, and rewrites the file atomically when anything changed. A missing log is created.
    ///
    /// - Parameters:
    ///   - url: the log.
    ///   - epoch: the checkpoint's epoch (0 keeps nothing).
    ///   - lastEpochLines: the checkpoint's copy of epoch `epoch`'s lines, when it has one.
    /// - Throws: ``CheckpointError`` naming the file when it cannot be read or rewritten.
    @discardableResult
    public static func repair(url: URL, throughEpoch epoch: Int, restoring lastEpochLines: String?) throws -> Repair {
        let file = url.relativePath
        let bytes: [UInt8]
        if FileManager.default.fileExists(atPath: url.path) {
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw CheckpointError(file: file, message: "cannot read the metrics log to resume it")
            }
            bytes = [UInt8](data)
        } else {
            bytes = []
        }
        var repair = Repair()
        var kept: [UInt8] = []
        kept.reserveCapacity(bytes.count)
        var hasLastEpoch = false
        var lineStart = 0
        for index in bytes.indices where bytes[index] == 0x0A {
            let line = bytes[lineStart...index]
            lineStart = index + 1
            guard let lineEpoch = epochOfLine(line), lineEpoch <= epoch else {
                repair.droppedLines += 1
                continue
            }
            if lineEpoch == epoch { hasLastEpoch = true }
            kept += line
        }
        if lineStart < bytes.count { repair.droppedLines += 1 }   // half a line, cut by a kill or a full disk
        if !hasLastEpoch, epoch > 0, let lastEpochLines, !lastEpochLines.isEmpty {
            kept += Array(lastEpochLines.utf8)
            repair.restoredEpoch = true
        }
        if kept != bytes || !FileManager.default.fileExists(atPath: url.path) {
            try writeAtomically(kept, to: url)
        }
        return repair
    }

    /// The `epoch` of one complete JSON line, or nil when the line is not a JSON object with an integer epoch.
    private static func epochOfLine(_ line: ArraySlice<UInt8>) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
              let number = object["epoch"] as? NSNumber else { return nil }
        let value = number.doubleValue
        guard value.rounded() == value, value >= 0, value < 1e9 else { return nil }
        return Int(value)
    }
}
