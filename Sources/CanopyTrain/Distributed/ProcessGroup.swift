/// The processes of a data-parallel training run and the collective operations between them.
///
/// Every process of the group calls the same collectives in the same order with the same counts (a collective
/// that one process skips blocks the others for ever). Collectives run in the order they are called or started,
/// whichever method starts them: a blocking call waits for every collective started before it. Every process gets
/// bit-identical results from a reduction, so parameters updated from reduced gradients never drift apart.
///
/// ``LocalProcessGroup`` is the one-process group every ordinary run uses; `CanopyMPI`'s `MPIProcessGroup` (built
/// with `--traits MPI`) spans the processes `mpirun` started.
public protocol ProcessGroup: AnyObject, Sendable {
    /// This process's index in the group, `0..<size`. Rank 0 prints, logs and writes files.
    var rank: Int { get }
    /// How many processes the group has (at least 1).
    var size: Int { get }
    /// Sums `values` element-wise over every process, in place: afterwards each process holds the total.
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// Sums `values` element-wise over every process, in place.
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws
    /// Starts summing `values` over every process, in place, and returns at once; the memory must stay valid and
    /// untouched until the request's ``CollectiveRequest/wait()`` returns.
    func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) -> CollectiveRequest
    /// Copies `bytes` from process `root` into every other process's `bytes` (all of the same count).
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws
    /// Every process's `values` (their counts may differ), in rank order, on every process.
    func allgather(_ values: [Float]) throws -> [[Float]]
    /// Returns once every process has called it.
    func barrier() throws
}

/// A collective started by ``ProcessGroup/startAllreduceSum(_:)``.
public protocol CollectiveRequest: Sendable {
    /// Waits until the collective has finished; throws what it failed with.
    func wait() throws
}

extension ProcessGroup {
    /// Whether this process is the group's first (the one that prints, logs and writes files).
    public var isRoot: Bool { rank == 0 }

    /// Broadcasts an array of byte-copyable values from `root`: its count first, then its contents; returns
    /// `root`'s array on every process (the others' `values` are ignored).
    public func broadcast<Element: BitwiseCopyable>(_ values: [Element], from root: Int) throws -> [Element] {
        var count = UInt64(values.count)
        try withUnsafeMutableBytes(of: &count) { try broadcast($0, from: root) }
        var result = rank == root ? values : [Element](unsafeUninitializedCapacity: Int(count)) { _, initialized in
            initialized = Int(count)
        }
        try result.withUnsafeMutableBytes { try broadcast($0, from: root) }
        return result
    }

    /// The element-wise sum of `values` over every process.
    public func allreduceSum(_ values: [Double]) throws -> [Double] {
        var result = values
        try result.withUnsafeMutableBufferPointer { try allreduceSum($0) }
        return result
    }
}

/// The group of one process: every collective returns at once, leaving the values as they are.
public final class LocalProcessGroup: ProcessGroup {
    /// The one-process group.
    public init() {}

    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {}
    public func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) -> CollectiveRequest { FinishedRequest() }
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws {}
    public func allgather(_ values: [Float]) throws -> [[Float]] { [values] }
    public func barrier() throws {}

    private struct FinishedRequest: CollectiveRequest {
        func wait() throws {}
    }
}
