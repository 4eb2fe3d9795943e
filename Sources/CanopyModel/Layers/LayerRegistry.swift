/// Every layer type a model file can name, listed once: the decoder's word lists, "did you mean" suggestions,
/// the examples in its messages and the layer reference come from here.
public enum LayerRegistry {
    /// The layer types, in the order messages list their words.
    public static let types: [any Layer.Type] = [
        DenseLayer.self, Conv2DLayer.self, MaxPoolLayer.self, DropoutLayer.self, FlattenLayer.self,
        ActivationLayer.self, ParametricActivationLayer.self, AvgPoolLayer.self, GlobalAvgPoolLayer.self,
        SoftmaxLayer.self, ReshapeLayer.self,
        LayerNormLayer.self, BatchNormLayer.self,
        GradientReversalLayer.self,
        Conv1DLayer.self,
        EmbeddingLayer.self, MultiheadAttentionLayer.self, SequenceMeanLayer.self,
    ]

    /// Every word's syntax, in order (`dense`, `conv2d`, `maxpool`, `dropout`, `flatten`, `relu`, ...).
    public static let syntaxes: [LayerSyntax] = types.flatMap { $0.syntax }

    /// Every layer word, in order.
    public static var keywords: [String] { syntaxes.map(\.keyword) }

    /// The syntax of `keyword`, or nil when no layer has that word.
    public static func syntax(for keyword: String) -> LayerSyntax? { syntaxes.first { $0.keyword == keyword } }

    /// One line per word for people: `- conv2d: {filters: 16, kernel: 3, padding: 1} — 2-D convolution ...`,
    /// with each setting's default.
    public static var reference: String {
        syntaxes.map { syntax in
            let settings = syntax.settings.map { setting -> String in
                switch setting.fallback {
                case .required: return setting.key
                case .integer(let value): return "\(setting.key) (default \(value))"
                case .number(let value): return "\(setting.key) (default \(value))"
                case .sameAs(let other): return "\(setting.key) (default: \(other))"
                case .word(let value):
                    guard case .word(let choices) = setting.kind else { return "\(setting.key) (default \(value))" }
                    return "\(setting.key) (\(choices.joined(separator: " | ")), default \(value))"
                case .boolean(let value): return "\(setting.key) (default \(value))"
                }
            }
            let keys = settings.isEmpty ? "" : " [\(settings.joined(separator: ", "))]"
            return "- \(syntax.fullExample)\(keys): \(syntax.summary)"
        }.joined(separator: "\n")
    }
}
