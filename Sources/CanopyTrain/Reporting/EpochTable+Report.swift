/// Adapts the trainer's ``EpochReport`` to ``EpochTable``'s plain values.
extension EpochTable {
    /// The lines for one finished epoch with its time (see ``render(epoch:epochs:train:validation:seconds:)``).
    public static func render(_ report: EpochReport, epochs: Int) -> String {
        func lines(_ scores: [TaskScore]) -> [TaskLine] {
            scores.map { TaskLine(task: $0.task, loss: $0.loss, metrics: $0.metrics) }
        }
        return render(epoch: report.epoch, epochs: epochs, train: lines(report.train),
                      validation: lines(report.validation), seconds: report.seconds)
    }
}
