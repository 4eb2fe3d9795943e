import CanopyCore
import Foundation

/// What summing gradients over the processes has cost a run so far.
public struct CommunicationStatistics: Sendable {
    /// Gradient buffers summed (one a step for the joint gradients, more for methods that sum per-task ones).
    public var exchanges = 0
    /// Bytes of gradients summed, as each process hands them in.
    public var bytes = 0
    /// Seconds the training thread waited for sums after the work they overlap with was done: the part of the
    /// communication the step could not hide.
    public var waitSeconds = 0.0
}

/// Sums gradient buffers over the processes of a data-parallel run, in place.
///
/// A buffer comes to the host (a download, a copy on the CPU backend) and is summed in buckets of
/// ``bucketElements`` floats from its end to its start, then goes back. The gradient arena's end holds the last
/// layers, whose gradients the backward pass finishes first, so an exchange of the arena can overlap the backward
/// pass (``begin(_:count:plan:)``): each bucket is handed to the group's communication thread as soon as the last
/// kernel writing into it has run, while the rest of the backward pass goes on, and ``finish()`` waits for the
/// stragglers. Buckets always start in the same order, so every process reduces the same buckets in the same
/// order.
final class GradientExchange {
    let group: ProcessGroup
    let backend: Backend
    /// Floats per bucket: 1 Mi (4 MiB) unless `CANOPY_BUCKET_MB` says otherwise.
    let bucketElements: Int
    /// Host memory the buckets are summed in: allocated by hand, because the communication thread writes it while
    /// this one goes on (an array's storage may not be used outside its access closure).
    private var host = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private var overlap: Overlap?
    /// What the exchanges so far have cost.
    private(set) var statistics = CommunicationStatistics()

    /// When each bucket of the arena is final: the buckets in the order they start (from the arena's end), and
    /// for each the index of the last planned kernel writing into it (-1 for none: it is zeros from the start).
    struct Plan {
        var buckets: [Range<Int>]
        var readyAfter: [Int]
    }

    /// An exchange in flight: the buffer, the plan, the next bucket to start and the started ones' requests.
    private struct Overlap {
        let buffer: DeviceBuffer
        let count: Int
        let plan: Plan
        var next = 0
        var requests: [CollectiveRequest] = []
    }

    init(group: ProcessGroup, backend: Backend, bucketElements: Int = GradientExchange.defaultBucketElements) {
        self.group = group
        self.backend = backend
        self.bucketElements = max(1, bucketElements)
    }

    deinit {
        try? finish()
        host.deallocate()
    }

    /// `CANOPY_BUCKET_MB` in floats, or 1 Mi floats (4 MiB).
    static var defaultBucketElements: Int {
        guard let text = ProcessInfo.processInfo.environment["CANOPY_BUCKET_MB"], let megabytes = Double(text),
              megabytes > 0, megabytes.isFinite else { return 1 << 20 }
        return max(1, Int(megabytes * 1_048_576 / 4))
    }

    /// The buckets of an arena of `count` floats, and when each is final given the ranges each planned kernel
    /// writes (``Executor/gradientArenaWrites()``).
    func plan(count: Int, writes: [[Range<Int>]]) -> Plan {
        var buckets: [Range<Int>] = []
        var end = count
        while end > 0 {
            buckets.append(max(0, end - bucketElements)..<end)
            end = buckets.last!.lowerBound
        }
        let readyAfter = buckets.map { bucket in
            writes.indices.last { writes[$0].contains { $0.overlaps(bucket) } } ?? -1
        }
        return Plan(buckets: buckets, readyAfter: readyAfter)
    }

    /// Replaces the first `count` floats of `buffer` with their sum over the processes, at once.
    func sum(_ buffer: DeviceBuffer, count: Int) throws {
        guard group.size > 1, count > 0 else { return }
        try begin(buffer, count: count, plan: plan(count: count, writes: []))
        try finish()
    }

    /// Starts summing `buffer` (of `count` floats) bucket by bucket as ``kernelFinished(_:)`` reports the kernels
    /// that write it; finishes an exchange left unfinished first.
    func begin(_ buffer: DeviceBuffer, count: Int, plan: Plan) throws {
        if overlap != nil { try finish() }
        if host.count < count {
            host.deallocate()
            host = .allocate(capacity: count)
            host.initialize(repeating: 0)
        }
        overlap = Overlap(buffer: buffer, count: count, plan: plan)
        try startReadyBuckets(after: -1)
    }

    /// Whether an exchange is in flight.
    var isActive: Bool { overlap != nil }

    /// Tells the exchange that planned kernel `index` has run: starts every bucket now final, in order.
    func kernelFinished(_ index: Int) throws {
        guard overlap != nil else { return }
        try startReadyBuckets(after: index)
    }

    /// Starts the buckets not started yet, waits for all of them and writes the sums back into the buffer.
    func finish() throws {
        guard overlap != nil else { return }
        defer { overlap = nil }
        try startReadyBuckets(after: Int.max)
        // Wait for every request, even after a failure, so no bucket is still being written when this returns.
        let clock = ContinuousClock(), waitStart = clock.now
        var failure: Error?
        for request in overlap!.requests {
            do { try request.wait() } catch { failure = failure ?? error }
        }
        statistics.exchanges += 1
        statistics.bytes += overlap!.count * MemoryLayout<Float>.size
        statistics.waitSeconds += (clock.now - waitStart).seconds
        if let failure { throw failure }
        try backend.upload(UnsafeBufferPointer(rebasing: host[0..<overlap!.count]), to: overlap!.buffer, offset: 0)
    }

    private func startReadyBuckets(after index: Int) throws {
        guard var current = overlap else { return }
        defer { overlap = current }
        while current.next < current.plan.buckets.count, current.plan.readyAfter[current.next] <= index {
            let bucket = current.plan.buckets[current.next]
            let values = UnsafeMutableBufferPointer(rebasing: host[bucket])
            try backend.download(current.buffer, offset: bucket.lowerBound, into: values)
            current.requests.append(group.startAllreduceSum(values))
            current.next += 1
        }
    }
}
