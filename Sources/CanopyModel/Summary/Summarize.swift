/// Checks a spec from end to end and reports every layer's shapes and parameters, before any data is read.
///
/// Checks the spec's values and references (``SpecRules``), then builds its graph for one example
/// (``ModelGraph/build(_:batchSize:training:)``, symbolic: nothing is allocated) and returns the summary the
/// builder recorded, so the rows are the graph's own. Input → `shared:` stem → the sharing scheme (experts and
/// gates, cross-stitch columns and units, soft-sharing towers, or graph nodes) → task gates → each task's head.
/// Throws a ``ModelFileError`` placed at the offending value when a value is out of range (see ``ModelLimits``;
/// sizes are refused before anything of that size is built), when a name or reference is wrong (graph inputs, a
/// task's `in:`, `freeze:` entries, the early-stopping monitor), when shapes do not fit (conv2d or maxpool on a
/// rank-1 input, a kernel larger than its padded input, dense on a rank-3 input without `flatten`, an MMoE gate
/// or task gate on a rank-3 input, an `add` of different shapes, a `concat` whose other dimensions differ), or
/// when a head does not fit its loss and metrics (cross_entropy needs a final dense layer of width ≥ 2, mse a
/// width of 1, auc a binary task, class_weights one weight per class). ``ModelFile`` runs this on every file it
/// loads; call it yourself on a spec built in code.
public func summarize(_ spec: ModelSpec) throws -> ModelSummary {
    let rules = SpecRules(spec: spec)
    try rules.check()
    let summary = try ModelGraph.build(spec, batchSize: 1, training: false).summary
    try rules.checkFreeze(summary)
    return summary
}

extension ModelSpec {
    /// The same as ``summarize(_:)``.
    public func summary() throws -> ModelSummary { try summarize(self) }
}
