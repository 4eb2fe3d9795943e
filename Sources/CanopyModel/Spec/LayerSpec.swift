/// One layer of the shared trunk or of a task head, with the place it was written.
public struct LayerSpec: Equatable, Sendable {
    /// What the layer computes.
    public var kind: LayerKind
    /// The layer's key path, such as `shared[3]` or `tasks.digit.head[0]`.
    public var keyPath: String
    /// Where the layer is written.
    public var location: SourceLocation

    /// Creates a layer; `location` defaults to `<code>` for layers built in Swift rather than read from a file.
    public init(kind: LayerKind, keyPath: String, location: SourceLocation = SourceLocation(file: "<code>")) {
        self.kind = kind
        self.keyPath = keyPath
        self.location = location
    }
}

/// The layers a model file can name.
public enum LayerKind: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A fully connected layer `y = W·x + b` on a rank-1 input; `dense: 64` or `dense: {units: 64}`.
    case dense(units: Int)
    /// A 2-D convolution on `[channels, height, width]`, zero padding on every side, square kernel;
    /// output side `(side + 2·padding − kernel) / stride + 1`.
    /// `conv2d: {filters: 16, kernel: 3, stride: 1, padding: 1}` (stride default 1, padding default 0).
    case conv2d(filters: Int, kernel: Int, stride: Int, padding: Int)
    /// Max pooling over square windows without padding; `maxpool: 2` or `maxpool: {kernel: 2, stride: 2}`
    /// (stride defaults to kernel). Output side `(side − kernel) / stride + 1`.
    case maxPool(kernel: Int, stride: Int)
    /// Reshape `[c, h, w]` to `[c·h·w]` (row-major); a no-op on a rank-1 input. Written `flatten`.
    case flatten
    /// An element-wise activation, written as its bare name (`relu`, `sigmoid`, `tanh`, `gelu`).
    case activation(ActivationKind)
    /// Inverted dropout with this drop probability in [0, 1) while training; identity otherwise. `dropout: 0.1`.
    case dropout(Float)

    /// The word a model file uses for this layer (`dense`, `conv2d`, `maxpool`, `flatten`, `relu`, ..., `dropout`).
    public var keyword: String {
        switch self {
        case .dense: return "dense"
        case .conv2d: return "conv2d"
        case .maxPool: return "maxpool"
        case .flatten: return "flatten"
        case .activation(let a): return a.rawValue
        case .dropout: return "dropout"
        }
    }

    /// A short human description: `dense 64`, `conv2d 16×3×3 s1 p1`, `maxpool 2×2 s2`, `dropout 0.1`, `relu`.
    public var description: String {
        switch self {
        case .dense(let units): return "dense \(units)"
        case .conv2d(let f, let k, let s, let p): return "conv2d \(f)×\(k)×\(k) s\(s) p\(p)"
        case .maxPool(let k, let s): return "maxpool \(k)×\(k) s\(s)"
        case .flatten: return "flatten"
        case .activation(let a): return a.rawValue
        case .dropout(let p): return "dropout \(p)"
        }
    }

    /// Whether the layer has a weight and a bias.
    public var hasParameters: Bool {
        switch self {
        case .dense, .conv2d: return true
        default: return false
        }
    }
}

/// Element-wise activation functions.
public enum ActivationKind: String, CaseIterable, Equatable, Hashable, Sendable {
    /// `max(0, x)`.
    case relu
    /// `1 / (1 + e^(−x))`.
    case sigmoid
    /// `tanh(x)`.
    case tanh
    /// `x·Φ(x)` with Φ the standard normal CDF; a backend may use the tanh approximation
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    case gelu
}
