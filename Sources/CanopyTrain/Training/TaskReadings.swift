import CanopyCore
import CanopyModel

/// Each task's loss, labelled-row count and outputs for a run of steps, gathered on the device and read back to
/// the host in one download, so that a step makes no blocking read of its own.
///
/// After each step's forward pass, ``record()`` enqueues device-to-device copies of every task's `loss`,
/// `labelledCount` and `output` into the next slot of one record buffer (`copyBlock` kernels, asynchronous like
/// the rest of the step). ``read()`` downloads the filled slots at once, after everything enqueued before it, and
/// empties the record. The values are exactly those an immediate read would have given: the copies run in queue
/// order, after the step's forward pass and before anything later writes those buffers.
///
/// A slot holds, task after task, `[loss, labelled count, outputs…]`. The record holds ``capacity`` slots: at
/// most `maxSteps`, fewer when that would exceed `budget` floats (a wide output), and at least one.
final class TaskReadings {
    /// One task's values for one step, as read back.
    struct Reading {
        /// The batch's mean loss over its labelled rows.
        var loss: Float
        /// How many rows had the task's label (their class weights' sum when class weights fold into the mask).
        var labelled: Float
        /// The task's outputs, `[batch, width]` row-major.
        var outputs: ArraySlice<Float>
    }

    let tasks: [TaskGraph]
    /// Slots (steps) the record holds.
    let capacity: Int
    /// Steps recorded and not read yet.
    private(set) var count = 0
    private let executor: Executor
    private let slots: DeviceBuffer
    private let outputCounts: [Int]
    /// Floats per slot, and each task's first float in a slot.
    private let stride: Int
    private let taskOffsets: [Int]
    private var host: [Float]

    /// Makes the record on the executor's backend.
    init(tasks: [TaskGraph], executor: Executor, maxSteps: Int = 64, budget: Int = 1 << 22) throws {
        self.tasks = tasks
        self.executor = executor
        outputCounts = tasks.map { $0.outputShape.reduce(1, *) }
        var offsets: [Int] = [], offset = 0
        for count in outputCounts { offsets.append(offset); offset += 2 + count }
        taskOffsets = offsets
        stride = max(offset, 1)
        capacity = max(1, min(maxSteps, budget / stride))
        slots = try executor.backend.makeBuffer(count: capacity * stride)
        host = [Float](repeating: 0, count: capacity * stride)
    }

    /// True when the next ``record()`` needs a ``read()`` first.
    var isFull: Bool { count == capacity }

    /// Enqueues the copies of the step just run into the next slot. Throws when the record is full.
    func record() throws {
        guard !isFull else {
            throw BackendError.invalidArguments(kernel: "record", reason: "the record of \(capacity) steps is full")
        }
        let slot = count * stride
        for (t, task) in tasks.enumerated() {
            let at = slot + taskOffsets[t]
            try copy(task.loss, count: 1, to: at)
            try copy(task.labelledCount, count: 1, to: at + 1)
            try copy(task.output, count: outputCounts[t], to: at + 2)
        }
        count += 1
    }

    /// Downloads the recorded steps in one read and empties the record: per step, in the order recorded, each
    /// task's reading in model-file order.
    func read() throws -> [[Reading]] {
        guard count > 0 else { return [] }
        let floats = count * stride
        try host.withUnsafeMutableBufferPointer {
            try executor.backend.download(slots, offset: 0, into: UnsafeMutableBufferPointer(rebasing: $0[0..<floats]))
        }
        let steps = (0..<count).map { step in
            tasks.indices.map { t -> Reading in
                let at = step * stride + taskOffsets[t]
                return Reading(loss: host[at], labelled: host[at + 1], outputs: host[(at + 2)..<(at + 2 + outputCounts[t])])
            }
        }
        count = 0
        return steps
    }

    /// Forgets the recorded steps without reading them (a run of steps that an error cut short).
    func discard() { count = 0 }

    private func copy(_ value: Value, count: Int, to offset: Int) throws {
        try executor.backend.execute(.copyBlock(x: try executor.buffer(for: value), y: slots, rows: 1, cols: count,
                                                xStride: count, xOffset: 0, yStride: count, yOffset: offset))
    }
}

/// What scoring a batch needs from the host once its readings come back: each task's labels and mask, and how
/// many rows are real. Kept for the batches whose readings are still on the device.
struct BatchLabels {
    var labels: [[Float]]
    var masks: [[Float]]
    var realRowCount: Int

    init(_ batch: Batch) {
        labels = batch.labels; masks = batch.masks; realRowCount = batch.realRowCount
    }

    /// Adds each task's reading for this batch to its accumulator (tasks in model-file order).
    func add(_ readings: [TaskReadings.Reading], to accumulators: inout [TaskAccumulator]) {
        for t in accumulators.indices {
            accumulators[t].add(readings[t], labels: labels[t], mask: masks[t], realRowCount: realRowCount)
        }
    }
}
