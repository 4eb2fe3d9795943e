/// Random changes made to training examples (`input.augment:`), for image inputs of shape `[C, H, W]`.
///
/// ```yaml
/// input:
///   shape: [3, 32, 32]
///   augment: {flip: horizontal, crop: {padding: 4}}
/// ```
/// Each training example, independently: with `flip: horizontal` it is mirrored left to right with probability ½;
/// with `crop: {padding: P}` it is padded with P zeros on every side and cut back to H×W at an offset drawn
/// uniformly from 0...2P in each direction. Validation, test and prediction batches are never changed.
public struct AugmentSpec: Equatable, Sendable {
    /// Mirror examples left to right with probability ½ (`flip: horizontal`).
    public var horizontalFlip: Bool
    /// The zero padding of the random crop (`crop: {padding: P}`); 0 for no crop.
    public var cropPadding: Int

    /// An augmentation; nothing is checked here (the model-file decoder checks `cropPadding` against the shape).
    public init(horizontalFlip: Bool = false, cropPadding: Int = 0) {
        self.horizontalFlip = horizontalFlip
        self.cropPadding = cropPadding
    }

    /// Whether it changes anything.
    public var isIdentity: Bool { !horizontalFlip && cropPadding == 0 }
}
