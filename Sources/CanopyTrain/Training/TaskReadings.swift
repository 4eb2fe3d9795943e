import CanopyCore
import CanopyModel

/// Each task's loss, labelled-row count and outputs for a run of steps, gathered on the device and read back to
/// the host in one download, so that a step makes no blocking read of its own.
///
/// The executor gathers every task's `loss`, `labelledCount` and `output` end to end in one buffer
/// (``recordedValues(of:)`` passed as its `gathered` values: each computed in place). After each step's forward
/// pass, ``record()`` enqueues one device-to-device copy of that buffer into the next slot of a record buffer (a
/// `copyBlock` kernel, asynchronous like the rest of the step). ``read()`` downloads the filled slots at once, after
/// everything enqueued before it, and empties the record. The values are exactly those an immediate read would
/// have given: the copies run in queue order, after the step's forward pass and before anything later writes those
/// buffers.
///
/// A slot holds, task after task, `[loss, labelled count, outputs…]`, each at its offset in the gathered buffer.
/// The record holds ``capacity`` slots: at most `maxSteps`, fewer when that would exceed `budget` floats (a wide
/// output), and at least one.
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
    /// The executor's gathered values, exactly ``recordedValues(of:)``: a slot is a copy of them.
    private let gathered: GatheredValues
    /// Floats per slot, and where each recorded value (``recordedValues(of:)``'s order) lies in a slot.
    private let stride: Int
    private let valueOffsets: [Int]
    private var host: [Float]

    /// The values a step records, in slot order: each task's loss, labelled count and output. Pass them as the
    /// executor's `gathered` values, so that a step's record is one copy.
    static func recordedValues(of tasks: [TaskGraph]) -> [Value] {
        tasks.flatMap { [$0.loss, $0.labelledCount, $0.output] }
    }

    /// Makes the record on the executor's backend. Throws when the executor does not gather
    /// ``recordedValues(of:)``.
    init(tasks: [TaskGraph], executor: Executor, maxSteps: Int = 64, budget: Int = 1 << 22) throws {
        self.tasks = tasks
        self.executor = executor
        outputCounts = tasks.map { $0.outputShape.reduce(1, *) }
        let recorded = TaskReadings.recordedValues(of: tasks)
        guard let gathered = executor.gathered, gathered.values == recorded else {
            throw BackendError.invalidArguments(kernel: "record", reason: "the executor does not gather the tasks' "
                + "losses, counts and outputs (plan it with gathered: TaskReadings.recordedValues(of:))")
        }
        self.gathered = gathered
        valueOffsets = gathered.offsets
        stride = gathered.count
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
        try executor.backend.execute(.copyBlock(x: gathered.buffer, y: slots, rows: 1, cols: stride, xStride: stride,
                                                xOffset: 0, yStride: stride, yOffset: slot))
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
                let at = step * stride, output = at + valueOffsets[3 * t + 2]
                return Reading(loss: host[at + valueOffsets[3 * t]], labelled: host[at + valueOffsets[3 * t + 1]],
                               outputs: host[output..<(output + outputCounts[t])])
            }
        }
        count = 0
        return steps
    }

    /// Forgets the recorded steps without reading them (a run of steps that an error cut short).
    func discard() { count = 0 }
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
