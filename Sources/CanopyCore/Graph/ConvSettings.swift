/// How a ``Op/conv2d(_:)`` node slides its kernel: steps between windows, zeros added on each side, and channel
/// groups. The kernel's own size is the weight's shape.
///
/// Its printed form is part of a graph's fingerprint, so the square, one-group case prints as the op always has,
/// `stride: 2, padding: 1`; other cases add what differs: `stride: 1×2, padding: 0×1, groups: 4`.
public struct ConvSettings: Equatable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Steps between windows down and across.
    public var strideHeight: Int, strideWidth: Int
    /// Zeros added above and below, and left and right.
    public var padHeight: Int, padWidth: Int
    /// Channel groups (see ``ConvGeometry/groups``).
    public var groups: Int

    /// Settings with separate height and width values.
    public init(strideHeight: Int = 1, strideWidth: Int = 1, padHeight: Int = 0, padWidth: Int = 0, groups: Int = 1) {
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padHeight = padHeight; self.padWidth = padWidth; self.groups = groups
    }

    /// Square settings: the same stride and padding in both directions.
    public init(stride: Int, padding: Int, groups: Int = 1) {
        self.init(strideHeight: stride, strideWidth: stride, padHeight: padding, padWidth: padding, groups: groups)
    }

    /// The convolution of input [N, C, H, W] with weight [F, C/G, KH, KW] under these settings.
    public func geometry(input sx: [Int], weight sw: [Int]) -> ConvGeometry {
        ConvGeometry(batch: sx[0], inChannels: sx[1], inHeight: sx[2], inWidth: sx[3], outChannels: sw[0],
                     kernelHeight: sw[2], kernelWidth: sw[3], strideHeight: strideHeight, strideWidth: strideWidth,
                     padHeight: padHeight, padWidth: padWidth, groups: groups)
    }

    public var description: String {
        func pair(_ a: Int, _ b: Int) -> String { a == b ? "\(a)" : "\(a)×\(b)" }
        let text = "stride: \(pair(strideHeight, strideWidth)), padding: \(pair(padHeight, padWidth))"
        return groups == 1 ? text : text + ", groups: \(groups)"
    }

    public var debugDescription: String { description }
}
