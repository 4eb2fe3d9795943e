import CanopyCore

extension Trainer {
    /// What summing gradient buffers over the processes has cost the run so far (all zero in one process).
    public var communication: CommunicationStatistics { steps.communication }

    /// Makes every process of ``group`` hold rank 0's run: its parameters, optimizer, weighting and early-stopping
    /// state and progress, sent as the checkpoint rank 0 would write (``checkpoint()``) and restored through the
    /// same checks as a file (``restore(_:)``). The initialiser calls it; call it again after rank 0 alone has
    /// restored a checkpoint from its disk (resuming), whatever the number of processes that wrote it. A
    /// collective; does nothing in a one-process group.
    public func adoptRootState() throws {
        guard group.size > 1 else { return }
        let encoded = group.isRoot ? try checkpoint().safeTensors(file: "rank 0's state").encoded() : []
        let received = try group.broadcast(encoded, from: 0)
        guard !group.isRoot else { return }
        try restore(TrainingCheckpoint.decoded(received, file: "rank 0's state"))
    }

    /// Each step's per-task losses of the whole global batch, from each process's readings of its own share:
    /// `Σ_r S_r / max(Σ_r n_r, 1)`, with `S_r` process r's masked loss sum (its mean times `max(n_r, 1)`) and
    /// `n_r` its labelled rows, as one process with the whole batch computes them. One reduction for all the
    /// steps read at once; the local losses in a one-process group.
    func globalLosses(_ steps: [[TaskReadings.Reading]]) throws -> [[Double]] {
        let local = steps.map { $0.map { Double($0.loss) } }
        guard group.size > 1 else { return local }
        var sums: [Double] = []
        sums.reserveCapacity(steps.count * model.tasks.count * 2)
        for readings in steps {
            for reading in readings {
                let labelled = Double(reading.labelled)
                sums += [labelled > 0 ? Double(reading.loss) * max(labelled, 1) : 0, labelled]
            }
        }
        let total = try group.allreduceSum(sums)
        return steps.indices.map { s in
            model.tasks.indices.map { t in
                let at = (s * model.tasks.count + t) * 2
                return total[at] / max(total[at + 1], 1)
            }
        }
    }

    /// Averages the parameters that kernels update themselves (batch norm's running statistics) over the
    /// processes, which each moved them with the batch statistics of their own share. A running average is
    /// linear in the statistics, so averaging once an epoch equals averaging every step.
    func averageStateOverProcesses() throws {
        guard group.size > 1 else { return }
        let trainable = Set(parameters.trainableNames)
        for name in parameters.names where !trainable.contains(name) {
            guard let buffer = parameters.buffer(named: name) else { continue }
            var values = try backend.download(buffer)
            try values.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
            let scale = 1 / Float(group.size)
            try backend.upload(values.map { $0 * scale }, to: buffer)
        }
    }
}
