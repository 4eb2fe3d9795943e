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
        /// The single-task model's final validation score, or nil when its training failed.
        public var score: TaskScore?
        /// Why the baseline failed (its loss diverged, say), or nil.
        public var failure: String?
    }

    /// Trains every task alone on `backend`, reusing `data` (so the split is the same); `progress` hears of
    /// each baseline before it starts. A baseline whose training stops on a NaN or infinite loss is reported as
    /// failed and the others still run; any other error stops them all.
    public static func train(_ spec: ModelSpec, data: ModelData, epochs: Int? = nil, backend: () throws -> Backend,
                             progress: (String) -> Void = { _ in }) throws -> [Result] {
        try spec.tasks.map { task in
            progress(task.name)
            let trainer = try Trainer(spec: singleTaskSpec(spec, task: task.name), backend: try backend(), data: data)
            do {
                _ = try trainer.train(epochs: epochs)
            } catch let error as TrainingError {
                return Result(task: task.name, score: nil, failure: "\(error)")
            }
            let scores = try trainer.evaluate(data.validation)
            return Result(task: task.name, score: scores[0], failure: nil)
        }
    }

    /// Δm in percent of the multi-task validation scores against the baselines that succeeded (tasks matched by
    /// name); NaN when none did.
    public static func deltaM(multiTask: [TaskScore], baselines: [Result]) -> Double {
        let pairs = multiTask.compactMap { score in
            baselines.first { $0.task == score.task }?.score.map { (score, $0) }
        }
        guard !pairs.isEmpty else { return .nan }
        return MultiTaskMath.deltaM(multiTask: pairs.map(\.0.metrics), baselines: pairs.map(\.1.metrics))
    }

    /// The baselines and Δm as a JSON document (`baselines.json` in a run folder): per task, each metric of the
    /// multi-task model and of the task alone, or the baseline's failure; then Δm over the baselines that ran.
    public static func json(multiTask: [TaskScore], baselines: [Result]) -> String {
        var tasks: [String] = []
        for result in baselines {
            var fields = ["\"task\":\(jsonString(result.task))"]
            if let failure = result.failure {
                fields.append("\"failed\":\(jsonString(failure))")
            }
            let own = multiTask.first { $0.task == result.task }
            func metrics(_ score: TaskScore?) -> String {
                "{" + (score?.metrics ?? []).map { "\(jsonString($0.name)):\(jsonNumber($0.value))" }
                    .joined(separator: ",") + "}"
            }
            fields.append("\"multi_task\":\(metrics(own))")
            fields.append("\"single_task\":" + (result.score == nil ? "null" : metrics(result.score)))
            tasks.append("{" + fields.joined(separator: ",") + "}")
        }
        let delta = deltaM(multiTask: multiTask, baselines: baselines)
        let counted = baselines.filter { $0.score != nil }.map { jsonString($0.task) }
        return "{\"tasks\":[" + tasks.joined(separator: ",") + "],\"delta_m_percent\":\(jsonNumber(delta)),"
            + "\"delta_m_tasks\":[" + counted.joined(separator: ",") + "]}\n"
    }
}
