/// Checks a spec from end to end and works out every layer's output shape and parameters, before any data is read.
///
/// Walks input → `shared:` stem → the sharing scheme (experts and gates, cross-stitch columns and units,
/// soft-sharing towers, or graph nodes) → task gates → each task's head. Throws a ``ModelFileError`` placed at the
/// offending value when a value is out of range (see ``ModelLimits``), when a name or reference is wrong (graph
/// inputs, a task's `in:`, `freeze:` entries, the early-stopping monitor), when shapes do not fit (conv2d or
/// maxpool on a rank-1 input, a kernel larger than its padded input, dense on a rank-3 input without `flatten`,
/// an MMoE gate or task gate on a rank-3 input, an `add` of different shapes, a `concat` whose other dimensions
/// differ), or when a head does not fit its loss and metrics (cross_entropy needs a final dense layer of width
/// ≥ 2, mse a width of 1, auc a binary task, class_weights one weight per class). ``ModelFile`` runs this on every
/// file it loads; call it yourself on a spec built in code.
public func summarize(_ spec: ModelSpec) throws -> ModelSummary {
    let rules = SpecRules(spec: spec)
    try rules.check()
    var walker = ShapeWalker(spec: spec)
    let shared = try walker.walk(spec.shared, from: spec.input.shape, parameterPrefix: "shared")
    let stemShape = shared.last?.outputShape ?? spec.input.shape
    let scheme = try walker.walkScheme(from: stemShape)
    var sections = scheme.sections
    var parameters = shared.flatMap(\.parameters) + scheme.parameters
    if spec.taskGating {
        let gating = try walker.walkGating(scheme.taskInputs)
        sections.append(gating)
        parameters += gating.rows.flatMap(\.parameters)
    }
    var tasks: [ModelSummary.Task] = []
    for (task, input) in zip(spec.tasks, scheme.taskInputs) {
        let rows = try walker.walk(task.head, from: input, parameterPrefix: "tasks.\(task.name).head")
        let output = rows.last?.outputShape ?? input
        try rules.checkHead(task, output: output)
        tasks.append(ModelSummary.Task(name: task.name, inputShape: input, rows: rows, outputShape: output))
        parameters += rows.flatMap(\.parameters)
    }
    var summary = ModelSummary(name: spec.name, inputShape: spec.input.shape, shared: shared,
                               sharedOutputShape: stemShape, scheme: spec.scheme.keyword, sections: sections,
                               tasks: tasks, parameters: parameters)
    if case .mixtureOfExperts(let moe) = spec.scheme, moe.gates == .one { summary.hasSharedGate = true }
    if summary.totalParameterCount > ModelLimits.maxParameterCount {
        throw spec.error(at: "", "the model has \(summary.totalParameterCount) parameters, more than the limit "
                            + "of \(ModelLimits.maxParameterCount)")
    }
    try rules.checkFreeze(summary)
    return summary
}

extension ModelSpec {
    /// The same as ``summarize(_:)``.
    public func summary() throws -> ModelSummary { try summarize(self) }
}
