#if MPI
import CMPI
import CanopyTrain
import Foundation

/// The processes `mpirun` started, as a ``ProcessGroup`` over Open MPI's `MPI_COMM_WORLD`.
///
/// Make one with ``startIfLaunchedByMPIRun(environment:)`` (a plain `canopy train` never initialises MPI) and end it
/// with ``shutdown()`` on every process once the run has succeeded (a process that exits with status 0 without it
/// makes `mpirun` report an error):
///
/// ```swift
/// let group: ProcessGroup = try MPIProcessGroup.startIfLaunchedByMPIRun() ?? LocalProcessGroup()
/// // ... train ...
/// try (group as? MPIProcessGroup)?.shutdown()
/// ```
///
/// **Threads.** Every MPI call runs on one communication thread the group owns (MPI is initialised with
/// `MPI_THREAD_FUNNELED` from that thread, and finalised from it): the methods may be called from any thread; the
/// blocking ones submit a job and wait for it, ``startAllreduceSum(_:)`` submits one and returns. Jobs run strictly
/// in submission order, which is the contract's ordering guarantee. Every process must start the same collectives
/// in the same order, so collectives called from several threads at once (whose order is then a race) must be
/// ordered by the caller: call them from one thread, as the trainer does, or hand them to one in a fixed order.
///
/// **Bit-identical sums.** `MPI_Allreduce` does not promise that every process gets the same bits (recursive
/// doubling adds in rank-dependent orders when there are more than two processes). The sums here are
/// `MPI_Reduce_scatter_block` followed by `MPI_Allgather` over the count padded with zeros to a multiple of
/// ``size``: each chunk of the result is summed once, by the process that owns it, and then only copied to the
/// others, so every process holds the same bits. It is also the bandwidth-optimal allreduce (each process sends
/// and receives about 2·(N−1)/N of the data).
///
/// **Failures.** `MPI_COMM_WORLD` has `MPI_ERRORS_RETURN`, so a failing call throws ``MPIError`` with Open MPI's text
/// and the call's name instead of aborting. Open MPI 4 does not survive a lost process: when a process dies or exits
/// without ``shutdown()`` and with a non-zero status, `mpirun` kills every other process of the job (a collective
/// blocked on the dead process never returns an error) and exits non-zero. So a process that fails should exit
/// with a non-zero status without calling ``shutdown()`` (`MPI_Finalize` waits for every process).
public final class MPIProcessGroup: ProcessGroup, @unchecked Sendable {
    // @unchecked Sendable: `rank` and `size` are constants; `scratch` is only touched by jobs on `thread`, which
    // run one at a time; `thread` is itself thread-safe.

    public let rank: Int
    public let size: Int
    private let thread: CommunicationThread
    /// The padded buffer of the reductions, grown on demand; only jobs on `thread` touch it.
    private var scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// The most elements one reduction step sums: longer buffers are summed piece by piece (bounds `scratch`).
    private let reductionPiece: Int
    /// The most bytes one `MPI_Bcast` sends (MPI counts are 32-bit).
    private static let broadcastPiece = 1 << 30

    /// Whether `mpirun` started this process: Open MPI sets `OMPI_COMM_WORLD_SIZE`, and PMIx `PMIX_RANK`, in every
    /// process it launches (``MPILaunch/launchedByMPIRun(environment:)``).
    public static func launchedByMPIRun(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Bool {
        MPILaunch.launchedByMPIRun(environment: environment)
    }

    /// The group of every process `mpirun` started, or `nil` (without touching MPI) when `mpirun` did not start
    /// this process; see ``launchedByMPIRun(environment:)`` and ``init(reductionPiece:)``.
    public static func startIfLaunchedByMPIRun(
        environment: [String: String] = ProcessInfo.processInfo.environment, reductionPiece: Int = 1 << 24
    ) throws -> MPIProcessGroup? {
        launchedByMPIRun(environment: environment) ? try MPIProcessGroup(reductionPiece: reductionPiece) : nil
    }

    /// Initialises MPI on a new communication thread and joins `MPI_COMM_WORLD`. Collective: every process of the
    /// job must make its group. At most one group per process (MPI cannot be initialised twice).
    ///
    /// - Parameter reductionPiece: the most elements one reduction step sums (at least 1; every process must give
    ///   the same). Longer buffers are summed piece by piece, which bounds the group's scratch buffer to about
    ///   `reductionPiece` elements (every process still gets the same bits).
    public init(reductionPiece: Int = 1 << 24) throws {
        precondition(reductionPiece >= 1, "reductionPiece must be at least 1")
        try Self.initialization.claim()
        let thread = CommunicationThread(name: "canopy-mpi")
        var rank: Int32 = 0
        var size: Int32 = 0
        var initialized = false
        do {
            try thread.perform("MPI_Init_thread") {
                var provided: Int32 = 0
                try check(MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided), "MPI_Init_thread")
                initialized = true
                guard provided >= cmpi_thread_funneled() else { throw MPIError.threadSupport(provided: provided) }
                try check(MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return()), "MPI_Comm_set_errhandler")
                try check(MPI_Comm_rank(cmpi_comm_world(), &rank), "MPI_Comm_rank")
                try check(MPI_Comm_size(cmpi_comm_world(), &size), "MPI_Comm_size")
            }
        } catch {
            try? thread.stop { if initialized { _ = MPI_Finalize() } }
            throw error
        }
        self.thread = thread
        self.reductionPiece = reductionPiece
        self.rank = Int(rank)
        self.size = Int(size)
    }

    /// Frees the group's buffer. It does not finalise MPI: `MPI_Finalize` waits for every process, so a group
    /// released while unwinding from an error would hang instead of letting the process exit; call ``shutdown()``.
    deinit {
        scratch.deallocate()
    }

    /// Finalises MPI after every collective started before it, and ends the communication thread. Collective (every
    /// process must call it); calling it again does nothing. Collectives called afterwards throw
    /// ``MPIError/shutDown(operation:)``.
    public func shutdown() throws {
        try thread.stop { try check(MPI_Finalize(), "MPI_Finalize") }
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        try startAllreduceSum(values).wait()
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        try thread.perform("allreduceSum") { [self] in try sum(values, cmpi_double()) }
    }

    public func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) -> CollectiveRequest {
        thread.submit("startAllreduceSum") { [self] in try sum(values, cmpi_float()) }
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws {
        try thread.perform("broadcast") {
            let rootRank = try mpiCount(root, "MPI_Bcast")
            var offset = 0
            while offset < bytes.count {
                let count = min(Self.broadcastPiece, bytes.count - offset)
                try check(MPI_Bcast(bytes.baseAddress! + offset, Int32(count), cmpi_byte(), rootRank, cmpi_comm_world()),
                          "MPI_Bcast")
                offset += count
            }
        }
    }

    public func allgather(_ values: [Float]) throws -> [[Float]] {
        var result: [[Float]] = []
        try thread.perform("allgather") { [self] in result = try gather(values) }
        return result
    }

    public func barrier() throws {
        try thread.perform("barrier") { try check(MPI_Barrier(cmpi_comm_world()), "MPI_Barrier") }
    }

    /// Sums `values` over every process in place (on the communication thread): piece by piece, each piece
    /// reduce-scattered and then allgathered, in `values` itself when its count is a multiple of `size`, else in
    /// `scratch` padded with zeros to one.
    private func sum<Element>(_ values: UnsafeMutableBufferPointer<Element>, _ type: MPI_Datatype) throws {
        let stride = MemoryLayout<Element>.stride
        var start = 0
        while start < values.count {
            let count = min(reductionPiece, values.count - start)
            let chunk = (count + size - 1) / size
            let chunk32 = try mpiCount(chunk, "MPI_Reduce_scatter_block")
            let piece = UnsafeMutableRawBufferPointer(start: values.baseAddress! + start, count: count * stride)
            let padded = count % size != 0
            let buffer = padded ? scratchBuffer(bytes: chunk * size * stride) : piece
            if padded {
                buffer.copyMemory(from: UnsafeRawBufferPointer(piece))
                (buffer.baseAddress! + count * stride).initializeMemory(as: UInt8.self, repeating: 0,
                                                                        count: (chunk * size - count) * stride)
            }
            // In place: the input is the whole buffer; this process's summed chunk lands at its start.
            try check(MPI_Reduce_scatter_block(cmpi_in_place(), buffer.baseAddress, chunk32, type, cmpi_sum(),
                                               cmpi_comm_world()), "MPI_Reduce_scatter_block")
            // In place: each process's chunk is read from its own slot, `rank * chunk`.
            if rank != 0 {
                (buffer.baseAddress! + rank * chunk * stride).copyMemory(from: buffer.baseAddress!, byteCount: chunk * stride)
            }
            try check(MPI_Allgather(cmpi_in_place(), 0, type, buffer.baseAddress, chunk32, type,
                                    cmpi_comm_world()), "MPI_Allgather")
            if padded { piece.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<count * stride])) }
            start += count
        }
    }

    /// Every process's `values` in rank order (on the communication thread): the counts with `MPI_Allgather`, then
    /// the values with `MPI_Allgatherv`.
    private func gather(_ values: [Float]) throws -> [[Float]] {
        var mine = Int64(values.count)
        var counts = [Int64](repeating: 0, count: size)
        try check(MPI_Allgather(&mine, 1, cmpi_int64(), &counts, 1, cmpi_int64(), cmpi_comm_world()), "MPI_Allgather")
        let total = counts.reduce(0, +)
        var offsets: [Int32] = []
        var offset: Int64 = 0
        for count in counts {
            offsets.append(try mpiCount(Int(offset), "MPI_Allgatherv"))
            offset += count
        }
        let counts32 = try counts.map { try mpiCount(Int($0), "MPI_Allgatherv") }
        var gathered = [Float](repeating: 0, count: Int(total))
        try check(MPI_Allgatherv(values, try mpiCount(values.count, "MPI_Allgatherv"), cmpi_float(), &gathered,
                                 counts32, offsets, cmpi_float(), cmpi_comm_world()), "MPI_Allgatherv")
        return (0..<size).map { Array(gathered[Int(offsets[$0])..<Int(offsets[$0]) + Int(counts32[$0])]) }
    }

    /// `scratch`, grown to at least `bytes` (on the communication thread).
    private func scratchBuffer(bytes: Int) -> UnsafeMutableRawBufferPointer {
        if scratch.count < bytes {
            scratch.deallocate()
            scratch = .allocate(byteCount: bytes, alignment: 64)
        }
        return UnsafeMutableRawBufferPointer(rebasing: scratch[0..<bytes])
    }

    /// Whether this process has made its group (MPI can be initialised once per process).
    private static let initialization = InitializationClaim()

    private final class InitializationClaim: @unchecked Sendable {
        // @unchecked Sendable: `claimed` is only touched with `lock` held.
        private let lock = NSLock()
        private var claimed = false

        func claim() throws {
            lock.lock()
            defer { lock.unlock() }
            guard !claimed else { throw MPIError.alreadyInitialized }
            claimed = true
        }
    }
}
#endif
