import CanopyCore
import COpenCL
import Foundation

/// Host memory that uploads are copied into, so that an upload does not wait for the device.
///
/// A blocking write on an in-order queue waits for every command before it: a step whose inputs were uploaded
/// that way left the device idle while the host prepared the next batch. Instead, ``upload(_:to:byteOffset:)``
/// copies the caller's values into a staging block (the caller may reuse its memory at once) and enqueues a
/// non-blocking write from it. A block is reused once its write has completed (its event says so). At most
/// ``maxBlocksInFlight`` writes and ``maxBytesInFlight`` bytes are in flight: past either, the oldest write is
/// waited for, which also keeps the host from running more than a few steps ahead of the device. Once warm
/// (each upload size seen), uploading allocates nothing.
final class CLUploadStaging {
    /// Writes that may be pending at once.
    let maxBlocksInFlight: Int
    /// Bytes that may be pending at once (one larger write is still allowed alone).
    let maxBytesInFlight: Int

    private struct Block {
        let memory: UnsafeMutableRawPointer
        let capacity: Int
        /// The pending write's event; nil when the block is free.
        var event: cl_event?
        var bytes = 0
    }

    /// Kept alive as long as the staging: its queue must outlive the pending writes.
    private let device: CLDevice
    private var queue: cl_command_queue { device.queue }
    private var blocks: [Block] = []
    /// Indices of blocks with a pending write, oldest first.
    private var inFlight: [Int] = []
    private var bytesInFlight = 0

    init(device: CLDevice, maxBlocksInFlight: Int = 64, maxBytesInFlight: Int = 64 << 20) {
        self.device = device
        self.maxBlocksInFlight = max(1, maxBlocksInFlight)
        self.maxBytesInFlight = max(1, maxBytesInFlight)
    }

    deinit {
        if !inFlight.isEmpty { clFinish(queue) }
        for block in blocks {
            if let event = block.event { clReleaseEvent(event) }
            block.memory.deallocate()
        }
    }

    /// Enqueues a write of `values` into `memory` at `byteOffset`, after the commands enqueued before it, from a
    /// staging copy; returns without waiting for it.
    func upload(_ values: UnsafeRawBufferPointer, to memory: cl_mem, byteOffset: Int) throws {
        guard let source = values.baseAddress, values.count > 0 else { return }
        try reapCompleted()
        while !inFlight.isEmpty
                && (inFlight.count >= maxBlocksInFlight || bytesInFlight + values.count > maxBytesInFlight) {
            try waitForOldest()
        }
        let index = try freeBlock(bytes: values.count)
        blocks[index].memory.copyMemory(from: source, byteCount: values.count)
        var event: cl_event?
        try CLError.check(clEnqueueWriteBuffer(queue, memory, cl_bool(CL_FALSE), byteOffset, values.count,
                                               blocks[index].memory, 0, nil, &event),
                          "clEnqueueWriteBuffer", "uploading \(values.count / MemoryLayout<Float>.size) floats")
        blocks[index].event = event
        blocks[index].bytes = values.count
        inFlight.append(index)
        bytesInFlight += values.count
    }

    /// Frees the blocks whose writes have finished, oldest first, up to the first still pending (the queue is in
    /// order, so the writes finish in the order they were enqueued); throws when a write failed.
    private func reapCompleted() throws {
        while let oldest = inFlight.first, try isComplete(blocks[oldest]) { releaseOldest() }
    }

    private func waitForOldest() throws {
        guard let oldest = inFlight.first, let pending = blocks[oldest].event else { return }
        var event: cl_event? = pending
        try CLError.check(clWaitForEvents(1, &event), "clWaitForEvents", "waiting for an upload to finish")
        guard try isComplete(blocks[oldest]) else {
            throw CLError(call: "clWaitForEvents", status: CL_INVALID_EVENT, doing: "waiting for an upload to finish")
                .asBackendError
        }
        releaseOldest()
    }

    /// Whether a block's write has completed; throws when the driver reports it failed.
    private func isComplete(_ block: Block) throws -> Bool {
        guard let event = block.event else { return true }
        var status: cl_int = 0
        try CLError.check(clGetEventInfo(event, cl_event_info(CL_EVENT_COMMAND_EXECUTION_STATUS),
                                         MemoryLayout<cl_int>.size, &status, nil),
                          "clGetEventInfo", "checking an upload")
        if status < 0 {
            throw CLError(call: "clEnqueueWriteBuffer", status: status, doing: "uploading (the write failed on the device)")
                .asBackendError
        }
        return status == CL_COMPLETE
    }

    private func releaseOldest() {
        let index = inFlight.removeFirst()
        if let event = blocks[index].event { clReleaseEvent(event) }
        blocks[index].event = nil
        bytesInFlight -= blocks[index].bytes
        blocks[index].bytes = 0
    }

    /// The smallest free block that holds `bytes`, or a new one.
    private func freeBlock(bytes: Int) throws -> Int {
        var best: Int?
        for (index, block) in blocks.enumerated() where block.event == nil && block.capacity >= bytes {
            if best == nil || block.capacity < blocks[best!].capacity { best = index }
        }
        if let best { return best }
        // Page-aligned, so that a driver may copy from it directly.
        let memory = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        blocks.append(Block(memory: memory, capacity: bytes))
        return blocks.count - 1
    }
}
