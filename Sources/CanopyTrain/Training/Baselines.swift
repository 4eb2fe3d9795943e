import CanopyCore
import CanopyModel

/// Single-task baselines and the multi-task measure Δm.
///
/// Each task is trained alone with the same architecture (the same stem and scheme; a cross-stitch column
/// without units, a soft-sharing tower without penalties), the same optimizer, batch size, epochs and seed, on
/// the same data split. Δm then compares the multi-task model's final validation metrics with them
/// (``MultiTaskMath/deltaM(multiTask:baselines:)``).
public enum Baselines {
    /// The model of `task` trained alone.
    public static func singleTaskSpec(_ spec: ModelSpec, task name: String) -> ModelSpec {
        var single = spec
        single.tasks = spec.tasks.filter { $0.name == name }.map { task in
            var task = task
            task.weight = 1
            return task
        }
        switch spec.scheme {
        case var .crossStitch(crossStitch):
            crossStitch.unitsAfter = []
            single.scheme = .crossStitch(crossStitch)
        case var .soft(soft):
            soft.l2 = 0
            soft.traceNorm = 0
            single.scheme = .soft(soft)
        default:
            break
        }
        single.train.weighting = .fixed
        if let rule = spec.train.earlyStopping, rule.task != nil, rule.task != name { single.train.earlyStopping = nil }
        return single
    }

    /// One baseline's result.
    public struct Result: Sendable {
        /// The task trained alone.
        public var task: String
        /// The single-task model's final validation score.
        public var score: TaskScore
    }

    /// Trains every task alone on `backend`, reusing `data` (so the split is the same); `progress` hears of
    /// each baseline before it starts.
    public static func train(_ spec: ModelSpec, data: ModelData, backend: () throws -> Backend,
                             progress: (String) -> Void = { _ in }) throws -> [Result] {
        try spec.tasks.map { task in
            progress(task.name)
            let trainer = try Trainer(spec: singleTaskSpec(spec, task: task.name), backend: try backend(), data: data)
            _ = try trainer.train()
            let scores = try trainer.evaluate(data.validation)
            return Result(task: task.name, score: scores[0])
        }
    }

    /// Δm in percent of the multi-task validation scores against the baselines (tasks matched by name).
    public static func deltaM(multiTask: [TaskScore], baselines: [Result]) -> Double {
        let pairs = multiTask.compactMap { score in baselines.first { $0.task == score.task }.map { (score, $0.score) } }
        return MultiTaskMath.deltaM(multiTask: pairs.map(\.0.metrics), baselines: pairs.map(\.1.metrics))
    }
}
