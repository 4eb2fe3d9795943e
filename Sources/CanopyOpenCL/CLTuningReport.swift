import Foundation

/// One candidate value of a tunable group and what measuring it gave.
public struct OpenCLTuningCandidate: Sendable, Equatable {
    /// What happened to a candidate.
    public enum Outcome: Sendable, Equatable {
        /// It matched the default choice's results; the median time of one round of the group's workloads.
        case measured(seconds: Double)
        /// Its results differ from the default choice's: never chosen.
        case wrongResult(String)
        /// Building or running it failed (the message says how): never chosen.
        case failed(String)
        /// Not measured: the time budget ran out first.
        case skipped
    }

    /// The values, e.g. `register 8×16, group 4×4` or `tiled 64×64×16, 4×4 per item`.
    public var label: String
    public var outcome: Outcome

    /// The median seconds when measured.
    public var seconds: Double? {
        if case let .measured(seconds) = outcome { return seconds }
        return nil
    }
}

/// What the tuner measured for one group of tunables (e.g. the matmul register block) and what it chose.
public struct OpenCLTuningGroup: Sendable, Equatable {
    /// The group, e.g. `matmul register block`.
    public var name: String
    /// The workloads each candidate ran, e.g. `matmul 128×512×784, ...`.
    public var workloads: String
    /// Every candidate in the order measured; the first is the choice in force when the group started.
    public var candidates: [OpenCLTuningCandidate]
    /// The label of the chosen candidate (the fastest that matched the default's results).
    public var chosen: String

    /// How many times faster the chosen candidate is than the first (the choice in force before the group).
    public var speedup: Double? {
        guard let first = candidates.first?.seconds,
              let best = candidates.first(where: { $0.label == chosen })?.seconds, best > 0 else { return nil }
        return first / best
    }
}

/// What ``OpenCLBackend/tune(device:options:seconds:progress:)`` measured, chose and wrote.
public struct OpenCLTuningReport: Sendable, CustomStringConvertible {
    /// The device's one-line summary.
    public var device: String
    /// Each group with its candidates, in the order tuned.
    public var groups: [OpenCLTuningGroup]
    /// Seconds for one round of every workload with the device's default tunables and with the chosen ones,
    /// measured at the end, alternating between the two (the median of a few rounds each).
    public var defaultSeconds: Double, tunedSeconds: Double
    /// The tuning file written, or nil when the disk cache is off (then nothing is kept).
    public var file: URL?

    public var description: String {
        var lines = ["tuning \(device)"]
        func ms(_ s: Double) -> String { String(format: "%.2f ms", s * 1000) }
        for group in groups {
            lines.append("\(group.name) (\(group.workloads)):")
            for candidate in group.candidates {
                let mark = candidate.label == group.chosen ? "*" : " "
                let what: String
                switch candidate.outcome {
                case let .measured(seconds): what = ms(seconds)
                case let .wrongResult(message): what = "wrong result, dropped: \(message)"
                case let .failed(message): what = "failed, dropped: \(message)"
                case .skipped: what = "skipped (time budget)"
                }
                lines.append("  \(mark) \(candidate.label.padding(toLength: 34, withPad: " ", startingAt: 0)) \(what)")
            }
            let speedup = group.speedup.map { String(format: " (%.2f× the first)", $0) } ?? ""
            lines.append("  chose \(group.chosen)\(speedup)")
        }
        lines.append(String(format: "every workload, defaults against the choices: %@ against %@ (%.2f× faster)", ms(defaultSeconds),
                            ms(tunedSeconds), tunedSeconds > 0 ? defaultSeconds / tunedSeconds : 0))
        lines.append(file.map { "wrote \($0.path)" } ?? "nothing written: the kernel disk cache is off (CANOPY_CACHE_DIR=off)")
        return lines.joined(separator: "\n")
    }
}
