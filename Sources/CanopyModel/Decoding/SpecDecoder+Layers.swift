/// Layer lists: `shared:` and each task's `head:`.
extension SpecDecoder {
    /// Layers with a value (`dense: 64`); the others are bare words (`flatten`, `relu`).
    static let valuedLayers = ["dense", "conv2d", "maxpool", "dropout"]
    static let bareLayers = ["flatten"] + ActivationKind.allCases.map(\.rawValue)
    static var layerWords: [String] { valuedLayers + bareLayers }

    /// A list of layers at `path` (`shared` or `tasks.<name>.head`).
    func layers(_ node: DocumentNode, _ path: String) throws -> [LayerSpec] {
        try list(node, path, of: "layers").enumerated().map { index, item in
            let itemPath = "\(path)[\(index)]"
            return LayerSpec(kind: try layerKind(item, itemPath), keyPath: itemPath, location: location(of: item))
        }
    }

    /// One layer: a bare word, or a mapping with one key naming the layer.
    private func layerKind(_ node: DocumentNode, _ path: String) throws -> LayerKind {
        switch node.content {
        case .scalar:
            let word = try self.word(node, path, among: Self.layerWords, what: "layer")
            if Self.valuedLayers.contains(word) {
                throw error(node, path, "'\(word)' needs a value, for example \(Self.example(word))")
            }
            return try bareLayer(word, node, path)
        case .sequence:
            throw error(node, path, "expected a layer such as 'relu' or {dense: 64}, found a list")
        case .mapping(let pairs):
            guard pairs.count == 1 else {
                let keys = pairs.compactMap { pair -> String? in
                    if case .scalar(let text, _) = pair.key.content { return text } else { return nil }
                }
                throw error(node, path, "a layer has exactly one key, such as {dense: 64}, found \(pairs.count) "
                                + "(\(keys.joined(separator: ", "))); is a '-' missing?")
            }
            let word = try self.word(pairs[0].key, path, among: Self.layerWords, what: "layer")
            let value = pairs[0].value
            let sub = "\(path).\(word)"
            record(value, at: sub)
            switch word {
            case "dense":
                if case .mapping = value.content {
                    let f = try fields(value, sub, allowed: ["units"], what: "{units: 64}")
                    return .dense(units: try int(try f.required("units"), "\(sub).units"))
                }
                return .dense(units: try int(value, sub))
            case "conv2d":
                let f = try fields(value, sub, allowed: ["filters", "kernel", "stride", "padding"],
                                   what: "conv2d's settings such as \(Self.example(word))")
                return .conv2d(filters: try int(try f.required("filters"), "\(sub).filters"),
                               kernel: try int(try f.required("kernel"), "\(sub).kernel"),
                               stride: try f.optional("stride").map { try int($0, "\(sub).stride") } ?? 1,
                               padding: try f.optional("padding").map { try int($0, "\(sub).padding") } ?? 0)
            case "maxpool":
                if case .mapping = value.content {
                    let f = try fields(value, sub, allowed: ["kernel", "stride"], what: "{kernel: 2, stride: 2}")
                    let kernel = try int(try f.required("kernel"), "\(sub).kernel")
                    return .maxPool(kernel: kernel,
                                    stride: try f.optional("stride").map { try int($0, "\(sub).stride") } ?? kernel)
                }
                let kernel = try int(value, sub)
                return .maxPool(kernel: kernel, stride: kernel)
            case "dropout":
                return .dropout(try float(value, sub))
            default:
                guard value.isNull else {
                    throw error(value, sub, "'\(word)' takes no value; write it as a bare word: - \(word)")
                }
                return try bareLayer(word, node, path)
            }
        }
    }

    private func bareLayer(_ word: String, _ node: DocumentNode, _ path: String) throws -> LayerKind {
        if word == "flatten" { return .flatten }
        guard let activation = ActivationKind(rawValue: word) else {
            throw error(node, path, "unknown layer '\(word)'")
        }
        return .activation(activation)
    }

    private static func example(_ word: String) -> String {
        switch word {
        case "dense": return "{dense: 64}"
        case "conv2d": return "{conv2d: {filters: 16, kernel: 3, padding: 1}}"
        case "maxpool": return "{maxpool: 2}"
        default: return "{dropout: 0.1}"
        }
    }
}
