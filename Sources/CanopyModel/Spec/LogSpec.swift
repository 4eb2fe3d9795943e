/// The `log:` section: where a run's logs go besides its run folder.
///
/// ```yaml
/// log: {tensorboard: runs/tensorboard/digits}
/// ```
public struct LogSpec: Equatable, Sendable {
    /// The folder for TensorBoard event files (`tensorboard:`), as written (a relative path is taken relative to
    /// the current directory, like `canopy train --out`); nil writes none. `canopy train --tensorboard DIR`
    /// overrides it.
    public var tensorboard: String?

    /// Creates a section; nil writes no TensorBoard files.
    public init(tensorboard: String? = nil) { self.tensorboard = tensorboard }
}
