import Dispatch
import Foundation

/// One epoch's run-folder commit, as owned values: what ``RunOutput`` hands its background worker.
///
/// The safetensors contents are value types whose arrays the trainer no longer changes (a copy-on-write array
/// the trainer writes to again is copied first), read from the device on the training thread.
struct EpochCommit: @unchecked Sendable {
    // Unchecked: `log` and `folder` are classes. The worker is the only user of `log` from the moment a commit is
    // handed over until it finishes (``RunOutput`` waits for it before it appends anything itself), and `folder`
    // is only retained, so that its lock outlives the last write.
    let epoch: Int
    let parameters: SafeTensorsFile
    let parametersURL: URL
    let checkpoint: SafeTensorsFile
    let checkpointURL: URL
    let lines: String
    let log: MetricsLog
    let folder: RunFolder
    /// Writes bytes to a file descriptor (``writeAll(_:to:)``; tests put a failing writer here).
    let write: @Sendable ([UInt8], Int32) -> Bool

    /// Encodes and stages both files (write and `fsync` under temporary names), renames them over the old ones,
    /// reports the epoch as `committed`, then appends the log lines. A throw before the renames leaves every file
    /// at the previous epoch.
    func run(committed: () -> Void) throws {
        // One file's bytes at a time: the parameters are flushed and freed before the checkpoint is encoded.
        let stagedParameters = try StagedFile(try parameters.encoded(file: parametersURL.relativePath),
                                              for: parametersURL, write: write)
        let stagedCheckpoint = try StagedFile(try checkpoint.encoded(file: checkpointURL.relativePath),
                                              for: checkpointURL, write: write)
        try stagedParameters.commit()
        try stagedCheckpoint.commit()
        committed()
        try log.appendRecord(lines)
    }
}

/// A serial background worker with at most one commit in flight; its first failure is kept for the training
/// thread.
///
/// ``submit(_:)`` first waits for the commit in flight, so commits run one at a time, in the order submitted.
/// A failed commit is kept (``failure``) and later submissions are refused with it: nothing is written after a
/// failure, so the files stay at the last epoch committed.
final class CommitWorker: @unchecked Sendable {
    // Unchecked: `committedEpoch` and `storedFailure` are read and written only under `lock`; the queue and the
    // group are thread-safe.
    private let queue = DispatchQueue(label: "canopy.run-output.commit")
    private let inFlight = DispatchGroup()
    private let lock = NSLock()
    private var storedCommittedEpoch: Int
    private var storedFailure: Error?

    /// Starts with the folder holding `committedEpoch`'s files.
    init(committedEpoch: Int) { storedCommittedEpoch = committedEpoch }

    /// The epoch whose files the folder holds: set when a commit's renames are done.
    var committedEpoch: Int { locked { storedCommittedEpoch } }

    /// The first commit's failure, if one failed (not waiting for the commit in flight).
    var failure: Error? { locked { storedFailure } }

    /// Waits until no commit is in flight, then throws the kept failure, if any.
    func wait() throws {
        inFlight.wait()
        if let failure { throw failure }
    }

    /// Waits for the commit in flight (throwing its failure or an earlier one), then starts `commit`.
    func submit(_ commit: EpochCommit) throws {
        try wait()
        inFlight.enter()
        queue.async { [self] in
            defer { inFlight.leave() }
            do {
                try commit.run { locked { storedCommittedEpoch = commit.epoch } }
            } catch {
                locked { storedFailure = error }
            }
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
