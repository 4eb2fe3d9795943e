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
            let index = (firstBatch + k) % batcher.batchCount
            try batcher.fill(&batch, index: index, augmentation: ImageAugmentation(spec.input.augment, shape: spec.input.shape),
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
            let gradients = try steps.gradients(clippedTo: spec.train.clipNorm)
            try optimizer.step(gradients: gradients, learningRate: schedule.rate(atStep: step), skipping: frozen)
            weighting.didStep(losses: losses)
            all.append(losses)
        }
        return all
    }
}
