/// Checks a spec from end to end and works out every layer's output shape and parameters, before any data is read.
///
/// Walks input → shared trunk → each task's head. Throws a ``ModelFileError`` placed at the offending value when
/// a value is out of range (see ``ModelLimits``), when shapes do not fit (conv2d or maxpool on a rank-1 input,
/// a kernel larger than its padded input, dense on a rank-3 input without `flatten`), or when a head does not fit
/// its loss and metrics (cross_entropy needs a final dense layer of width ≥ 2, mse a width of 1, auc a binary
/// task). ``ModelFile`` runs this on every file it loads; call it yourself on a spec built in code.
public func summarize(_ spec: ModelSpec) throws -> ModelSummary {
    try SpecRules(spec: spec).check()
    var walker = ShapeWalker(spec: spec)
    let shared = try walker.walk(spec.shared, from: spec.input.shape, parameterPrefix: "shared")
    let trunkShape = shared.last?.outputShape ?? spec.input.shape
    var tasks: [ModelSummary.Task] = []
    for task in spec.tasks {
        let rows = try walker.walk(task.head, from: trunkShape, parameterPrefix: "tasks.\(task.name).head")
        let output = rows.last?.outputShape ?? trunkShape
        try SpecRules(spec: spec).checkHead(task, output: output)
        tasks.append(ModelSummary.Task(name: task.name, rows: rows, outputShape: output))
    }
    let summary = ModelSummary(name: spec.name, inputShape: spec.input.shape, shared: shared,
                               sharedOutputShape: trunkShape, tasks: tasks)
    if summary.totalParameterCount > ModelLimits.maxParameterCount {
        throw spec.error(at: "", "the model has \(summary.totalParameterCount) parameters, more than the limit "
                            + "of \(ModelLimits.maxParameterCount)")
    }
    return summary
}

extension ModelSpec {
    /// The same as ``summarize(_:)``.
    public func summary() throws -> ModelSummary { try summarize(self) }
}
