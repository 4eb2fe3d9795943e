import CanopyCore

/// MTAN (Liu et al., CVPR 2019): a shared trunk, and per task an attention module at each attention point that
/// masks the trunk's features there. See ``MTANSpec``.
extension ModelBuilder {
    func appendMTAN(_ mtan: MTANSpec, tasks: [String], stem: Value) throws -> SchemeOutput {
        var trunkRows = RowLog()
        var points: [Value] = []
        var x = stem
        for (i, layer) in mtan.trunk.enumerated() {
            x = try appendLayer(layer, to: x, name: "trunk.\(i)", rows: &trunkRows)
            if mtan.at.contains(i) { points.append(x) }
        }
        var sections = [ModelSummary.Section(title: "trunk", detail: "shared", rows: trunkRows.rows, copies: 1)]
        var attended: [Value?] = tasks.map { _ in nil }
        for (k, point) in points.enumerated() {
            let path = "\(mtan.keyPath).at[\(k)]"
            let site = LayerSite(keyPath: path, location: spec.location(of: path), spec: spec)
            let features = shape(of: point)
            guard features.count == 1 || features.count == 3 else {
                throw site.error("attention needs flat or [channels, height, width] features, but trunk[\(mtan.at[k])] "
                                    + "gives \(LayerSite.text(features))")
            }
            var rows = RowLog()
            for (t, task) in tasks.enumerated() {
                let name = "mtan.\(task).\(k)"
                var input = point
                if let previous = attended[t] {
                    let bridged = try bridge(previous, to: features, name: "\(name).bridge", site: site, rows: &rows)
                    input = try graph.concat([point, bridged], axis: 1, label: path)
                }
                let hidden = try appendLayers(attentionLayers(mtan, features: features, at: path), to: input,
                                              prefix: "\(name).attention", copies: tasks.count, rows: &rows)
                let projection: any Layer = features.count == 1
                    ? DenseLayer(units: features[0]) : Conv2DLayer(filters: features[0], kernel: 1)
                guard shape(of: hidden).count == features.count,
                      features.count == 1 || Array(shape(of: hidden).dropFirst()) == Array(features.dropFirst()) else {
                    throw site.error("the attention layers must keep the features' layout \(LayerSite.text(features)) "
                                        + "(channels may change), but give \(LayerSite.text(shape(of: hidden)))")
                }
                let (logits, parameters) = try apply(projection, to: hidden, name: "\(name).mask", label: path,
                                                     site: site, what: "the attention mask of task '\(task)'")
                rows.add("\(path).mask", "sigmoid mask → \(LayerSite.text(features))", input: shape(of: hidden),
                         output: features, parameters)
                attended[t] = try graph.binary(.multiply, point, graph.unary(.sigmoid, logits, label: path), label: path)
            }
            sections.append(ModelSummary.Section(title: "attention at trunk[\(mtan.at[k])]",
                                                 detail: "per task ×\(tasks.count)", rows: rows.rows,
                                                 copies: tasks.count))
        }
        var output = SchemeOutput(taskInputs: attended.map { $0! }, sharedRepresentation: nil)
        output.sections = sections
        return output
    }

    /// The hidden layers of an attention module on features of shape `features`: the file's `attention:` list, or
    /// MTAN's own (a layer as wide as the features — dense, or a 1×1 convolution and batch norm — and a ReLU).
    private func attentionLayers(_ mtan: MTANSpec, features: [Int], at path: String) -> [LayerSpec] {
        if let attention = mtan.attention { return attention }
        let location = spec.location(of: path)
        let kinds: [LayerKind] = features.count == 1
            ? [.dense(units: features[0]), .activation(.relu)]
            : [.conv2d(filters: features[0], kernel: 1, bias: false), .batchNorm(), .activation(.relu)]
        return kinds.enumerated().map { LayerSpec(kind: $1, keyPath: "\(path).attention[\($0)]", location: location) }
    }

    /// Brings a task's previous attended features to the next point's shape: a dense layer for flat features (after
    /// a flatten when they were [C, H, W]), or a 3×3 convolution whose stride is the trunk's pooling factor.
    private func bridge(_ x: Value, to target: [Int], name: String, site: LayerSite,
                        rows: inout RowLog) throws -> Value {
        let source = shape(of: x)
        let layer: any Layer
        var input = x
        if target.count == 1 {
            if source.count != 1 { input = try graph.flatten(x, label: site.keyPath) }
            layer = DenseLayer(units: target[0])
        } else {
            guard source.count == 3 else {
                throw site.error("attention cannot bridge flat features \(LayerSite.text(source)) to "
                                    + "\(LayerSite.text(target)); put attention points on [channels, height, width] "
                                    + "layers before flat ones")
            }
            // A 3×3 window, padding 1, stride s gives (side − 1) / s + 1.
            let stride = max(1, source[1] / max(target[1], 1))
            guard (source[1] - 1) / stride + 1 == target[1], (source[2] - 1) / stride + 1 == target[2] else {
                throw site.error("attention cannot bridge \(LayerSite.text(source)) to \(LayerSite.text(target)): the "
                                    + "trunk must shrink height and width by the same whole factor between points")
            }
            layer = Conv2DLayer(filters: target[0], kernel: 3, stride: SizePair(stride, stride), padding: 1)
        }
        let (y, parameters) = try apply(layer, to: input, name: name, label: site.keyPath, site: site,
                                        what: "an attention bridge")
        rows.add("\(site.keyPath).bridge", "bridge \(layer.description)", input: source, output: target, parameters)
        return y
    }
}
