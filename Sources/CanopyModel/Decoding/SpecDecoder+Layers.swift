/// Layer lists (`shared:`, each task's `head:`, and the schemes' columns and experts) and the settings of every
/// layer, read from the layer type's ``LayerSyntax`` (graph nodes read their settings here too).
extension SpecDecoder {
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
        case .scalar(let text, _) where text == ResidualLayer.keyword:
            throw error(node, path, "'residual' needs a list of layers, for example {residual: [{dense: 64}, relu]}")
        case .scalar:
            let syntax = try layerSyntax(node, path)
            if syntax.needsValue {
                throw error(node, path, "'\(syntax.keyword)' needs a value, for example \(syntax.fullExample)")
            }
            return syntax.make(try layerSettings(syntax) { _ in nil })
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
            if case .scalar(ResidualLayer.keyword, _) = pairs[0].key.content {
                return try residual(pairs[0].value, "\(path).\(ResidualLayer.keyword)")
            }
            let syntax = try layerSyntax(pairs[0].key, path)
            let word = syntax.keyword
            let value = pairs[0].value
            let sub = "\(path).\(word)"
            record(value, at: sub)
            if syntax.settings.isEmpty {
                guard value.isNull else {
                    throw error(value, sub, "'\(word)' takes no value; write it as a bare word: - \(word)")
                }
                return syntax.make(try layerSettings(syntax) { _ in nil })
            }
            if let shorthand = syntax.shorthand, !(syntax.takesMapping && value.isMapping) {
                return syntax.make(try layerSettings(syntax) { $0.key == shorthand ? (value, sub) : nil })
            }
            let f = try fields(value, sub, allowed: syntax.keys, what: syntax.mappingDescription)
            return syntax.make(try layerSettings(syntax, from: f))
        }
    }

    /// `residual: [layers]`: the block's layers, a list read like any other at `path` (`shared[2].residual`).
    private func residual(_ node: DocumentNode, _ path: String) throws -> LayerKind {
        record(node, at: path)
        guard case .sequence = node.content else {
            throw error(node, path, "expected a list of layers such as [{dense: 64}, relu], found \(node.kindDescription)")
        }
        let inner = try layers(node, path)
        if inner.isEmpty { throw error(node, path, "a residual block needs at least one layer") }
        return .residual(inner)
    }

    /// The layer word at `node`, with a suggestion when it names no layer (`residual` among them: layer lists
    /// read it before asking).
    private func layerSyntax(_ node: DocumentNode, _ path: String) throws -> LayerSyntax {
        let word = try self.word(node, path, among: LayerRegistry.keywords + [ResidualLayer.keyword], what: "layer")
        return LayerRegistry.syntax(for: word)!
    }

    /// A layer's settings from a mapping (`{filters: 16, kernel: 3}`, or a graph node's keys), each at its key.
    func layerSettings(_ syntax: LayerSyntax, from f: Fields) throws -> LayerSettings {
        try layerSettings(syntax) { setting in
            let node = setting.isRequired ? try f.required(setting.key) : f.optional(setting.key)
            return node.map { ($0, f.keyPath(setting.key)) }
        }
    }

    /// A layer's settings, reading each in the syntax's order from the node and key path `written` gives (nil
    /// when not written: the default applies); the values' types are the syntax's.
    private func layerSettings(_ syntax: LayerSyntax,
                               _ written: (LayerSetting) throws -> (DocumentNode, String)?) throws -> LayerSettings {
        var values: [String: LayerSettings.Value] = [:]
        for setting in syntax.settings {
            guard let (node, path) = try written(setting) else { continue }
            switch setting.kind {
            case .integer: values[setting.key] = .integer(try int(node, path))
            case .number: values[setting.key] = .number(try float(node, path))
            case .integers:
                values[setting.key] = .integers(try list(node, path, of: "integers").enumerated().map { index, item in
                    try int(item, "\(path)[\(index)]")
                })
            case .word(let choices):
                values[setting.key] = .word(try word(node, path, among: choices, what: "\(setting.key)"))
            case .boolean: values[setting.key] = .boolean(try bool(node, path))
            case .pair: values[setting.key] = try pair(node, path)
            }
        }
        return LayerSettings(values, syntax)
    }
}

extension SpecDecoder {
    /// A pair setting: one integer for both directions (`3`), or a list of exactly two integers `[height, width]`.
    private func pair(_ node: DocumentNode, _ path: String) throws -> LayerSettings.Value {
        guard case .sequence(let items) = node.content else {
            guard case .scalar = node.content else {
                throw error(node, path, "expected an integer or a list of 2 integers [height, width], found \(node.kindDescription)")
            }
            let value = try int(node, path)
            return .pair(value, value)
        }
        guard items.count == 2 else {
            throw error(node, path, "expected an integer or a list of 2 integers [height, width], found a list of \(items.count)")
        }
        return .pair(try int(items[0], "\(path)[0]"), try int(items[1], "\(path)[1]"))
    }
}

private extension DocumentNode {
    var isMapping: Bool { if case .mapping = content { return true } else { return false } }
}
