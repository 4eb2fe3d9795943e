import CanopyCore

extension ModelBuilder {
    /// Experts that are one dense layer followed only by element-wise activations, computed as one wide layer:
    /// the experts' weights [U, In] are stacked into [E·U, In] (and their biases into [E·U]), so one product
    /// `stem · Wᵀ` gives every expert's output side by side, [N, E·U] — the same maths as E separate products, in
    /// one GEMM — and the activations run once over it. The parameters, their names (`experts.<e>.0.weight`),
    /// their creation order (hence their initial values) and the summary rows are exactly those of separate
    /// experts; the stacking is a copy per step, and autodiff's gradient of the stack is sliced back per expert.
    /// Returns the experts' outputs as [N, E, U], or nil when the experts do not have that form (or there is one).
    func appendFusedExperts(_ moe: MixtureOfExpertsSpec, stem: Value, rows: inout RowLog) throws -> Value? {
        guard moe.experts > 1, let first = moe.expert.first, let dense = first.kind.layer as? DenseLayer,
              moe.expert.dropFirst().allSatisfy({ $0.kind.layer.isActivation && !$0.kind.layer.hasParameters }) else {
            return nil
        }
        let input = shape(of: stem)
        let syntax = dense.wordSyntax
        let site = LayerSite(keyPath: first.keyPath, location: first.location,
                             settingPath: { syntax.settingPath($0, inList: first.keyPath) }, locate: spec.location(of:))
        try dense.check(input: input, at: site)
        var weights: [Value] = [], biases: [Value] = []
        for e in 0..<moe.experts {
            var created: [ModelSummary.Parameter] = []
            for parameter in dense.parameters(input: input) {
                let name = "experts.\(e).0.\(parameter.suffix)"
                let value = try self.parameter(name, shape: parameter.shape, initializer: parameter.initializer,
                                               trainable: parameter.trainable, at: site.keyPath, site.location,
                                               what: "\(moe.experts) copies of \(first.kind)")
                if parameter.suffix == "weight" { weights.append(value) } else { biases.append(value) }
                created.append(ModelSummary.Parameter(name: name, count: Sizes.product(parameter.shape),
                                                      trainable: parameter.trainable))
            }
            rows.add(first.keyPath, first.kind.description, input: input, output: [dense.units], created)
        }
        let label = first.keyPath
        var h = try graph.matmul(stem, try graph.concat(weights, axis: 0, label: label), transposeB: true, label: label)
        if !biases.isEmpty { h = try graph.biasAdd(h, try graph.concat(biases, axis: 0, label: label), label: label) }
        try checkSize(of: h, at: label, first.location)
        for layer in moe.expert.dropFirst() {
            h = try layer.kind.layer.append(to: h, parameters: [], label: layer.keyPath, in: graph)
            for _ in 0..<moe.experts {
                rows.add(layer.keyPath, layer.kind.description, input: [dense.units], output: [dense.units], [])
            }
        }
        let batch = graph.shape(of: stem)[0]
        return try graph.reshape(h, to: [batch, moe.experts, dense.units], label: moe.keyPath)
    }
}
