/// The sharing schemes with a fixed structure: `mmoe:`, `cross_stitch:` and `soft_sharing:` (`graph:` is in
/// SpecDecoder+Graph). Ranges and shapes are checked later by ``SpecRules`` and ``summarize(_:)``.
extension SpecDecoder {
    /// `mmoe: {experts: 8, expert: [{dense: 16}, relu], gates: per_task | one}`.
    func mixtureOfExperts(_ node: DocumentNode) throws -> MixtureOfExpertsSpec {
        let path = "mmoe"
        let f = try fields(node, path, allowed: ["experts", "expert", "gates"],
                           what: "a mapping such as {experts: 8, expert: [{dense: 16}, relu]}")
        let experts = try int(try f.required("experts"), "\(path).experts")
        let expert = try layers(try f.required("expert"), "\(path).expert")
        let gates = try f.optional("gates").map {
            MixtureOfExpertsSpec.GateSharing(rawValue: try word($0, "\(path).gates", among: ["per_task", "one"],
                                                                what: "gate sharing"))!
        } ?? .perTask
        return MixtureOfExpertsSpec(experts: experts, expert: expert, gates: gates, keyPath: path,
                                    location: location(of: node))
    }

    /// `cross_stitch: {column: [layers], units_after: [1, 3], self_weight: 0.9}`; `units_after` defaults to
    /// ``CrossStitchSpec/defaultUnitsAfter(column:)``.
    func crossStitch(_ node: DocumentNode) throws -> CrossStitchSpec {
        let path = "cross_stitch"
        let f = try fields(node, path, allowed: ["column", "units_after", "self_weight"],
                           what: "a mapping such as {column: [{dense: 32}, relu], units_after: [1]}")
        let column = try layers(try f.required("column"), "\(path).column")
        let unitsAfter = try f.optional("units_after").map { node -> [Int] in
            if case .scalar = node.content { return [try int(node, "\(path).units_after")] }
            return try list(node, "\(path).units_after", of: "layer indices").enumerated().map {
                try int($1, "\(path).units_after[\($0)]")
            }
        } ?? CrossStitchSpec.defaultUnitsAfter(column: column)
        return CrossStitchSpec(column: column, unitsAfter: unitsAfter,
                               selfWeight: try f.optional("self_weight").map { try float($0, "\(path).self_weight") }
                                   ?? 0.9,
                               keyPath: path, location: location(of: node))
    }

    /// `soft_sharing: {column: [layers], l2: 0.01, trace_norm: 0.0}`.
    func softSharing(_ node: DocumentNode) throws -> SoftSharingSpec {
        let path = "soft_sharing"
        let f = try fields(node, path, allowed: ["column", "l2", "trace_norm"],
                           what: "a mapping such as {column: [{dense: 32}, relu], l2: 0.01}")
        return SoftSharingSpec(column: try layers(try f.required("column"), "\(path).column"),
                               l2: try f.optional("l2").map { try float($0, "\(path).l2") } ?? 0.01,
                               traceNorm: try f.optional("trace_norm").map { try float($0, "\(path).trace_norm") } ?? 0,
                               keyPath: path, location: location(of: node))
    }
}

extension SpecDecoder {
    /// `mtan: {trunk: [layers], at: [1, 5], attention: [layers]}`; `at` defaults to
    /// ``MTANSpec/defaultPoints(trunk:)``.
    func mtan(_ node: DocumentNode) throws -> MTANSpec {
        let path = "mtan"
        let f = try fields(node, path, allowed: ["trunk", "at", "attention"],
                           what: "a mapping such as {trunk: [{dense: 64}, relu, {dense: 32}, relu], at: [1, 3]}")
        let trunk = try layers(try f.required("trunk"), "\(path).trunk")
        let at = try f.optional("at").map { node -> [Int] in
            if case .scalar = node.content { return [try int(node, "\(path).at")] }
            return try list(node, "\(path).at", of: "trunk layer indices").enumerated().map {
                try int($1, "\(path).at[\($0)]")
            }
        } ?? MTANSpec.defaultPoints(trunk: trunk)
        let attention = try f.optional("attention").map { try layers($0, "\(path).attention") }
        return MTANSpec(trunk: trunk, at: at, attention: attention, keyPath: path, location: location(of: node))
    }
}

extension CrossStitchSpec {
    /// Where cross-stitch units go when `units_after:` is not given: after every activation layer that directly
    /// follows a dense or conv2d layer, at the activation's index. `[conv2d, relu, maxpool, flatten, dense, relu]`
    /// gives `[1, 5]`.
    public static func defaultUnitsAfter(column: [LayerSpec]) -> [Int] {
        column.indices.filter { i in
            i > 0 && column[i].kind.layer.isActivation && column[i - 1].kind.hasParameters
        }
    }
}
