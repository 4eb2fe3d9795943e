import CanopyCore
import Foundation

/// Sums gradient buffers over the processes of a data-parallel run, in place.
///
/// A buffer comes to the host (a download, a copy on the CPU backend), is summed in buckets of
/// ``bucketElements`` floats from its end to its start — the gradient arena's end holds the last layers, whose
/// gradients the backward pass finishes first — each bucket's sum started as soon as the previous one is handed
/// over (the group runs them in order on its communication thread, so every process reduces the same buckets in
/// the same order), and goes back once all have finished.
final class GradientExchange {
    let group: ProcessGroup
    let backend: Backend
    /// Floats per bucket: 1 Mi (4 MiB) unless `CANOPY_BUCKET_MB` says otherwise.
    let bucketElements: Int
    private var host: [Float] = []

    init(group: ProcessGroup, backend: Backend, bucketElements: Int = GradientExchange.defaultBucketElements) {
        self.group = group
        self.backend = backend
        self.bucketElements = max(1, bucketElements)
    }

    /// `CANOPY_BUCKET_MB` in floats, or 1 Mi floats (4 MiB).
    static var defaultBucketElements: Int {
        guard let text = ProcessInfo.processInfo.environment["CANOPY_BUCKET_MB"], let megabytes = Double(text), megabytes > 0, megabytes.isFinite else { return 1 << 20 }
        return max(1, Int(megabytes * 1_048_576 / 4))
    }

    /// Replaces the first `count` floats of `buffer` with their sum over the processes.
    func sum(_ buffer: DeviceBuffer, count: Int) throws {
        guard group.size > 1, count > 0 else { return }
        if host.count < count { host = [Float](repeating: 0, count: count) }
        try host.withUnsafeMutableBufferPointer { whole in
            let values = UnsafeMutableBufferPointer(rebasing: whole[0..<count])
            try backend.download(buffer, offset: 0, into: values)
            var requests: [CollectiveRequest] = []
            var end = count
            while end > 0 {
                let start = max(0, end - bucketElements)
                requests.append(group.startAllreduceSum(UnsafeMutableBufferPointer(rebasing: values[start..<end])))
                end = start
            }
            // Wait for every request, even after a failure, so no bucket is still being written when this returns.
            var failure: Error?
            for request in requests {
                do { try request.wait() } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
            try backend.upload(UnsafeBufferPointer(values), to: buffer, offset: 0)
        }
    }
}
