/// One layer of the shared trunk or of a task head, with the place it was written.
public struct LayerSpec: Hashable, Sendable {
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

/// A layer a model file can name: one of the ``Layer`` types of ``LayerRegistry``, with its settings.
///
/// Each layer type's file adds its factory: `.dense(units: 64)`, `.conv2d(filters: 16, kernel: 3, stride: 1,
/// padding: 1)`, `.maxPool(kernel: 2, stride: 2)`, `.flatten`, `.activation(.relu)`, `.dropout(0.1)`. Two kinds
/// are equal when they are the same type with equal settings.
public struct LayerKind: Hashable, Sendable, CustomStringConvertible {
    /// The layer's definition and settings.
    public let layer: any Layer

    /// Wraps a layer.
    public init(_ layer: some Layer) { self.layer = layer }

    /// The word a model file uses for this layer (`dense`, `conv2d`, `maxpool`, `flatten`, `relu`, ..., `dropout`).
    public var keyword: String { layer.keyword }
    /// A short human description: `dense 64`, `conv2d 16×3×3 s1 p1`, `maxpool 2×2 s2`, `dropout 0.1`, `relu`.
    public var description: String { layer.description }
    /// Whether the layer owns learnable parameters.
    public var hasParameters: Bool { layer.hasParameters }

    public static func == (a: LayerKind, b: LayerKind) -> Bool { AnyHashable(a.layer) == AnyHashable(b.layer) }
    public func hash(into hasher: inout Hasher) { hasher.combine(AnyHashable(layer)) }
}
