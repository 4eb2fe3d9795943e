import CanopyCore
import Foundation

extension Trainer {
    /// Runs `count` optimizer steps on the training batches in file order, from batch `firstBatch` on (wrapping
    /// around), without shuffling, validation, diagnostics or epoch bookkeeping; returns each step's per-task
    /// losses, in model-file order. For benchmarks that time training steps alone: each step does what a step of
    /// ``runEpoch(observer:)`` does (fill the batch, forward and backward passes, read the losses and outputs,
    /// optimizer update). The caller synchronises the backend when timing.
    ///
    /// - Throws: ``TrainingError/nonFiniteLoss(task:epoch:step:value:)`` as an epoch would; backend errors.
    @discardableResult
    public func runSteps(_ count: Int, firstBatch: Int = 0) throws -> [[Double]] {
        let epoch = epochsCompleted + 1
        var accumulators = model.tasks.map { TaskAccumulator(task: $0) }
        var all: [[Double]] = []
        all.reserveCapacity(count)
        batcher.resetOrder()
        for k in 0..<count {
            let step = optimizer.stepCount + 1
            let losses = try forwardAndBackward(batch: (firstBatch + k) % batcher.batchCount, step: step, epoch: epoch,
                                                accumulators: &accumulators)
            _ = try update(step: step)
            weighting.didStep(losses: losses)
            all.append(losses)
        }
        return all
    }

    /// The first half of a training step, as every step does it: fills batch `index` of the current order
    /// (augmented when the model asks), runs the weighting method's forward and backward passes, and adds each
    /// task's loss to `accumulators`; returns the per-task losses in model-file order.
    ///
    /// - Throws: ``TrainingError/nonFiniteLoss(task:epoch:step:value:)`` for a loss that is not finite.
    func forwardAndBackward(batch index: Int, step: Int, epoch: Int,
                            accumulators: inout [TaskAccumulator]) throws -> [Double] {
        try batcher.fill(&batch, index: index, augmentation: augmentation,
                         seed: SeedMixer.mix(spec.train.seed, 0x4155_474D, UInt64(step)))
        try steps.compute(batch: batch, seed: SeedMixer.mix(spec.train.seed, 0x4452_4F50, UInt64(step)),
                          progress: schedule.progress(atStep: step))
        var losses: [Double] = []
        for (t, task) in model.tasks.enumerated() {
            let loss = try accumulators[t].add(batch: batch, column: t, executor: steps.executor)
            guard loss.isFinite else {
                throw TrainingError.nonFiniteLoss(task: task.spec.name, epoch: epoch, step: step, value: loss)
            }
            losses.append(Double(loss))
        }
        return losses
    }

    /// The second half: the gradients the weighting method chooses, clipped when asked, and the optimizer's update
    /// at the schedule's rate for `step` (frozen parameters skipped); returns that rate.
    func update(step: Int) throws -> Float {
        let gradients = try steps.gradients(clippedTo: spec.train.clipNorm)
        let learningRate = schedule.rate(atStep: step)
        try optimizer.step(gradients: gradients, learningRate: learningRate, skipping: frozen)
        return learningRate
    }
}
