import CanopyTrain
import Foundation

/// A ``ProcessGroup`` whose "processes" are threads of this test process: for testing data-parallel training
/// without Open MPI. Every collective is one exchange through a shared ``Hub``: each member hands in its bytes,
/// and once all have, each gets every member's, and computes the result from them in rank order (so a sum is
/// the same bits on every member, as the contract asks). Like Open MPI's group, each member runs its collectives
/// in order on a communication thread of its own (a serial queue): ``startAllreduceSum(_:)`` returns at once, and
/// the member's thread goes on while the sum runs.
final class ThreadProcessGroup: ProcessGroup, @unchecked Sendable {
    /// The rendezvous of one group's members.
    final class Hub: @unchecked Sendable {
        let size: Int
        private let condition = NSCondition()
        private var slots: [[UInt8]]
        private var published: [[UInt8]] = []
        private var arrived = 0
        private var generation = 0
        /// How many exchanges have completed (every collective is one).
        private(set) var exchanges = 0

        init(size: Int) {
            self.size = size
            slots = Array(repeating: [], count: size)
        }

        /// Every member's bytes, in rank order, once all members have handed theirs in.
        func exchange(rank: Int, _ bytes: [UInt8]) -> [[UInt8]] {
            condition.lock()
            defer { condition.unlock() }
            let mine = generation
            slots[rank] = bytes
            arrived += 1
            if arrived == size {
                published = slots
                arrived = 0
                generation += 1
                exchanges += 1
                condition.broadcast()
            } else {
                while generation == mine { condition.wait() }
            }
            return published
        }
    }

    let hub: Hub
    let rank: Int
    var size: Int { hub.size }
    private let queue: DispatchQueue
    /// How many sums were started asynchronously, and how many of them were still running when the caller
    /// went on to its next collective or kernel (the overlap the trainer gains).
    let asynchronousSums = Locked(0)

    init(rank: Int, hub: Hub) {
        self.rank = rank
        self.hub = hub
        queue = DispatchQueue(label: "thread-group-\(rank)")
    }

    /// The members of a new group of `size`.
    static func members(_ size: Int) -> [ThreadProcessGroup] {
        let hub = Hub(size: size)
        return (0..<size).map { ThreadProcessGroup(rank: $0, hub: hub) }
    }

    private func sum<T: BinaryFloatingPoint & BitwiseCopyable>(_ values: UnsafeMutableBufferPointer<T>) {
        nonisolated(unsafe) let values = values
        queue.sync { sumNow(values) }
    }

    private func sumNow<T: BinaryFloatingPoint & BitwiseCopyable>(_ values: UnsafeMutableBufferPointer<T>) {
        let all = hub.exchange(rank: rank, Array(UnsafeRawBufferPointer(values)))
        for i in values.indices { values[i] = 0 }
        for bytes in all {
            bytes.withUnsafeBytes { raw in
                let other = raw.bindMemory(to: T.self)
                for i in values.indices { values[i] += other[i] }
            }
        }
    }

    func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws { sum(values) }
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws { sum(values) }

    func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) -> CollectiveRequest {
        nonisolated(unsafe) let values = values
        let done = DispatchSemaphore(value: 0)
        asynchronousSums.update { $0 += 1 }
        queue.async {
            self.sumNow(values)
            done.signal()
        }
        return Pending(done: done)
    }

    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws {
        nonisolated(unsafe) let bytes = bytes
        queue.sync {
            let all = hub.exchange(rank: rank, Array(UnsafeRawBufferPointer(bytes)))
            all[root].withUnsafeBytes { bytes.copyMemory(from: $0) }
        }
    }

    func allgather(_ values: [Float]) throws -> [[Float]] {
        queue.sync {
            hub.exchange(rank: rank, values.withUnsafeBytes { Array($0) }).map { bytes in
                bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            }
        }
    }

    func barrier() throws { queue.sync { _ = hub.exchange(rank: rank, []) } }

    private struct Pending: CollectiveRequest {
        let done: DispatchSemaphore
        func wait() throws { done.wait() }
    }
}
