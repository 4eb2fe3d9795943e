import Foundation
import SwiftProtobuf
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One TensorBoard event file, `events.out.tfevents.<seconds>.<host>` in a folder: TFRecord-framed `Event`
/// protocol buffers (Protos/tensorboard.proto), the first holding the file version `brain.Event:2`.
///
/// Each ``write(step:scalars:histograms:wallTime:)`` appends one event in a single `write(2)`, so a crash of the
/// process loses nothing already written; a write that fails part-way is cut back, so the file never ends in half
/// a record. A new writer always starts a new file (a resumed run appends to a new file in the same folder, and
/// TensorBoard reads the folder's files in order).
public final class TensorBoardWriter {
    /// The event file.
    public let url: URL
    private let descriptor: Int32

    /// Creates the folder if needed and a new event file in it, and writes its version record.
    ///
    /// - Throws: ``CheckpointError`` naming the folder or file when either cannot be created or written.
    public init(directory: URL, wallTime: Date = Date()) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(file: directory.relativePath, message: "cannot create the TensorBoard folder: "
                + "\(error.localizedDescription)")
        }
        let host = ProcessInfo.processInfo.hostName.isEmpty ? "localhost" : ProcessInfo.processInfo.hostName
        let base = "events.out.tfevents.\(Int(wallTime.timeIntervalSince1970)).\(host)"
        var attempt = 0, candidate = directory.appendingPathComponent(base), opened: Int32 = -1
        while true {
            opened = open(candidate.path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
            if opened >= 0 || errno != EEXIST || attempt > 1000 { break }
            attempt += 1
            candidate = directory.appendingPathComponent("\(base).\(attempt)")
        }
        url = candidate
        descriptor = opened
        guard descriptor >= 0 else {
            throw CheckpointError(file: url.relativePath,
                                  message: "cannot create the TensorBoard event file: \(String(cString: strerror(errno)))")
        }
        var event = Tensorboard_Event()
        event.wallTime = wallTime.timeIntervalSince1970
        event.fileVersion = "brain.Event:2"
        try append(event)
    }

    deinit { close(descriptor) }

    /// Appends one event at `step` with every scalar (stored as float32, TensorBoard's `simple_value`) and every
    /// histogram.
    ///
    /// - Parameters:
    ///   - step: the step TensorBoard plots against (Canopy: the epoch).
    ///   - scalars: tags (`digit/validation/accuracy`) and values; NaN and infinities are written as they are.
    ///   - histograms: tags and the values to count (see ``histogram(_:buckets:)``).
    /// - Throws: ``CheckpointError`` naming the file when it cannot be written.
    public func write(step: Int, scalars: [(tag: String, value: Double)],
                      histograms: [(tag: String, values: [Float])] = [], wallTime: Date = Date()) throws {
        var summary = Tensorboard_Summary()
        summary.value = scalars.map { scalar in
            var value = Tensorboard_Summary.Value()
            value.tag = scalar.tag
            value.simpleValue = Float(scalar.value)
            return value
        } + histograms.map { histogram in
            var value = Tensorboard_Summary.Value()
            value.tag = histogram.tag
            value.histo = Self.histogram(histogram.values)
            return value
        }
        var event = Tensorboard_Event()
        event.wallTime = wallTime.timeIntervalSince1970
        event.step = Int64(step)
        event.summary = summary
        try append(event)
    }

    /// Counts `values` into `buckets` equal-width buckets from their minimum to their maximum (one bucket when all
    /// are equal); bucket i holds the values in (limit[i−1], limit[i]]. Non-finite values are left out.
    static func histogram(_ values: [Float], buckets: Int = 30) -> Tensorboard_HistogramProto {
        let finite = values.lazy.filter { $0.isFinite }.map(Double.init)
        var proto = Tensorboard_HistogramProto()
        guard let low = finite.min(), let high = finite.max() else { return proto }
        let count = high > low ? buckets : 1
        let width = (high - low) / Double(count)
        proto.bucketLimit = (1...count).map { $0 == count ? high : low + width * Double($0) }
        var counts = [Double](repeating: 0, count: count)
        for value in finite {
            counts[width > 0 ? min(count - 1, max(0, Int(((value - low) / width).rounded(.up)) - 1)) : 0] += 1
            proto.sum += value
            proto.sumSquares += value * value
        }
        proto.bucket = counts
        proto.min = low
        proto.max = high
        proto.num = Double(counts.reduce(0, +))
        return proto
    }

    private func append(_ event: Tensorboard_Event) throws {
        let bytes: [UInt8]
        do {
            bytes = tfRecord(try event.serializedBytes())
        } catch {
            throw CheckpointError(file: url.relativePath, message: "cannot encode a TensorBoard event: \(error)")
        }
        if let reason = appendWhole(bytes, to: descriptor) {
            throw CheckpointError(file: url.relativePath, message: "cannot write the TensorBoard event file: \(reason)")
        }
    }
}
