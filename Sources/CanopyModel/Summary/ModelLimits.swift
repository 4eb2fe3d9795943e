/// Sizes beyond which a model file is refused as absurd (a typo such as an extra digit, or a hostile file).
public enum ModelLimits {
    /// The largest dimension, unit count, filter count, kernel, stride or padding: 2^20.
    public static let maxDimension = 1 << 20
    /// The most scalars in one per-example activation: 2^26.
    public static let maxActivationCount = 1 << 26
    /// The most learnable scalars in a whole model: 2^31.
    public static let maxParameterCount = 1 << 31
    /// The largest batch size and epoch count: 2^20.
    public static let maxBatchSize = 1 << 20
    /// The most epochs: 2^20.
    public static let maxEpochs = 1 << 20
    /// The largest model file read: 1 MiB.
    public static let maxFileBytes = 1 << 20
    /// The deepest nesting of lists and mappings in a model file.
    public static let maxNesting = 64
    /// The most nodes a model file may expand to once aliases are followed (guards against "billion laughs").
    public static let maxNodes = 100_000
}
