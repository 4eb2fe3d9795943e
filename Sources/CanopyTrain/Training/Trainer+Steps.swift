import CanopyCore
import Foundation

/// A training step whose readings (losses, labelled counts, outputs) are still on the device.
struct PendingStep {
    /// The batch's index in the epoch's order, and the 1-based step number over the run.
    var batchIndex: Int
    var step: Int
    var learningRate: Float
    var labels: BatchLabels
}

extension Trainer {
    /// Runs `count` optimizer steps on the training batches in file order, from batch `firstBatch` on (wrapping
    /// around), without shuffling, validation, diagnostics or epoch bookkeeping; returns each step's per-task
    /// losses, in model-file order. For benchmarks that time training steps alone: each step does what a step of
    /// ``runEpoch(observer:)`` does (fill the batch, forward and backward passes, record the losses and outputs,
    /// optimizer update), and the losses are read back as an epoch reads them, several steps at once. The caller
    /// synchronises the backend when timing.
    ///
    /// - Throws: ``TrainingError/nonFiniteLoss(task:epoch:step:value:)`` as an epoch would; backend errors.
    @discardableResult
    public func runSteps(_ count: Int, firstBatch: Int = 0) throws -> [[Double]] {
        var accumulators = model.tasks.map { TaskAccumulator(task: $0) }
        var all: [[Double]] = []
        all.reserveCapacity(count)
        batcher.resetOrder()
        try runBatches((0..<count).lazy.map { (firstBatch + $0) % self.batcher.batchCount }, epoch: epochsCompleted + 1,
                       accumulators: &accumulators, readingAtLeastEvery: nil) { all.append($1) }
        return all
    }

    /// Takes a step per batch index of `batches` (``step(batch:)``) and reads what the steps recorded back a record
    /// at a time: when the record is full, after every step for a weighting method that needs each step's losses,
    /// at least every `interval` seconds when given (a progress bar's pace), and at the end. Each step read is
    /// added to `accumulators` and handed to `each` in order (see ``readPending(_:epoch:accumulators:each:)``).
    func runBatches<Batches: Sequence<Int>>(_ batches: Batches, epoch: Int, accumulators: inout [TaskAccumulator],
                                            readingAtLeastEvery interval: Double?,
                                            each: (PendingStep, [Double]) throws -> Void) throws {
        var pending: [PendingStep] = []
        // Every process must read (a collective, see readPending) after the same steps: not on a clock.
        let interval = group.size > 1 ? nil : interval
        readings.discard()
        var lastRead = DispatchTime.now().uptimeNanoseconds
        func readPending() throws {
            try self.readPending(&pending, epoch: epoch, accumulators: &accumulators, each: each)
            lastRead = DispatchTime.now().uptimeNanoseconds
        }
        for index in batches {
            if readings.isFull { try readPending() }
            pending.append(try step(batch: index))
            let due = interval.map { Double(DispatchTime.now().uptimeNanoseconds - lastRead) / 1e9 > $0 } ?? false
            if weighting.needsEachStepsLosses || due { try readPending() }
        }
        try readPending()
    }

    /// One training step, as every step does it: fills batch `index` of the current order (augmented when the
    /// model asks), runs the weighting method's forward and backward passes, records each task's loss, labelled
    /// count and outputs on the device (see ``TaskReadings``; the caller reads them), then applies the gradients
    /// the method chooses, clipped when asked, at the schedule's rate (frozen parameters skipped).
    func step(batch index: Int) throws -> PendingStep {
        let step = optimizer.stepCount + 1
        try batcher.fill(&batch, index: index, augmentation: augmentation,
                         seed: SeedMixer.mix(spec.train.seed, 0x4155_474D, UInt64(step)))
        if group.size > 1 { steps.seedFactors = batcher.processShares(ofBatch: index, classWeights: steps.classWeights) }
        try steps.compute(batch: batch, seed: SeedMixer.mix(spec.train.seed, 0x4452_4F50, UInt64(step)),
                          progress: schedule.progress(atStep: step))
        try readings.record()
        let gradients = try steps.gradients(clippedTo: spec.train.clipNorm)
        let learningRate = schedule.rate(atStep: step)
        try optimizer.step(gradients: gradients.buffers, learningRate: learningRate, skipping: frozen, arena: gradients.arena)
        return PendingStep(batchIndex: index, step: step, learningRate: learningRate, labels: BatchLabels(batch))
    }

    /// Reads the pending steps' readings in one download and, step by step in order, adds them to `accumulators`,
    /// checks every loss is finite, tells the weighting method (``TaskWeighting/didStep(losses:)``) and calls
    /// `each` with the step and its per-task losses (model-file order); empties `pending`. The losses are the
    /// whole global batch's (``globalLosses(_:)``), so every process of a group sees and checks the same ones.
    ///
    /// - Throws: ``TrainingError/nonFiniteLoss(task:epoch:step:value:)`` for the first loss that is not finite.
    func readPending(_ pending: inout [PendingStep], epoch: Int, accumulators: inout [TaskAccumulator],
                     each: (PendingStep, [Double]) throws -> Void) throws {
        let steps = pending
        pending.removeAll(keepingCapacity: true)
        let read = try readings.read()
        for (losses, (readings, step)) in zip(try globalLosses(read), zip(read, steps)) {
            for (t, loss) in losses.enumerated() where !loss.isFinite {
                throw TrainingError.nonFiniteLoss(task: model.tasks[t].spec.name, epoch: epoch, step: step.step,
                                                  value: Float(loss))
            }
            step.labels.add(readings, to: &accumulators)
            try each(step, losses)
            weighting.didStep(losses: losses)
        }
    }
}
