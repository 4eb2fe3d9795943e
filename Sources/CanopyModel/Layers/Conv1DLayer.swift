import CanopyCore

/// A 1-D convolution on `[channels, length]` with zero padding:
/// `conv1d: {filters: 16, kernel: 5, stride: 1, padding: 2}` (stride default 1, padding default 0, groups default
/// 1). The output is `[filters, length']` with `length' = (length + 2·padding − kernel) / stride + 1`.
///
/// `groups: G` splits channels and filters into G blocks as in ``Conv2DLayer`` (G = channels is depthwise).
/// It is the graph's 2-D convolution on a one-pixel-high image: `[C, L]` is viewed as `[C, 1, L]` and convolved
/// with a `[1, kernel]` window, and the weight is viewed (not copied) as `[F, C/G, 1, kernel]`.
///
/// Parameters: `weight` [filters, channels/G, kernel] (PyTorch's `Conv1d` layout) and, unless `bias: false`,
/// `bias` [filters], started as ``WeightInit`` says (by default He-uniform with fan-in `channels/G · kernel`).
public struct Conv1DLayer: Layer, Sendable {
    /// Output channels, window length, step between windows, zeros added at each end, and channel groups.
    public var filters: Int, kernel: Int, stride: Int, padding: Int, groups: Int
    /// How the weight and bias start.
    public var initializer: WeightInit
    /// Whether the layer adds a bias.
    public var bias: Bool

    /// A 1-D convolution layer.
    public init(filters: Int, kernel: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1,
                initializer: WeightInit = .he, bias: Bool = true) {
        self.filters = filters; self.kernel = kernel; self.stride = stride; self.padding = padding
        self.groups = groups; self.initializer = initializer; self.bias = bias
    }

    public static let syntax = [
        LayerSyntax(keyword: "conv1d",
                    settings: [.integer("filters"), .integer("kernel"), .integer("stride", default: .integer(1)),
                               .integer("padding", default: .integer(0)), .integer("groups", default: .integer(1)),
                               .word("init", among: WeightInit.words, default: "he"), .boolean("bias", default: true)],
                    example: "{filters: 16, kernel: 5, padding: 2}",
                    summary: "1-D convolution on [channels, length], zero padding; groups (depthwise when groups = channels)",
                    make: { .conv1d(filters: $0.int("filters"), kernel: $0.int("kernel"), stride: $0.int("stride"),
                                    padding: $0.int("padding"), groups: $0.int("groups"),
                                    initializer: WeightInit(rawValue: $0.word("init"))!, bias: $0.bool("bias")) }),
    ]

    public var keyword: String { "conv1d" }
    /// `conv1d 16×5 s1 p2`, with ` g4` for groups.
    public var description: String {
        "conv1d \(filters)×\(kernel) s\(stride) p\(padding)" + (groups == 1 ? "" : " g\(groups)")
            + initializer.describe(bias: bias)
    }
    public var hasParameters: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        try site.checkSize(filters, "filters")
        try ConvChecks.sizes(kernel: SizePair(1, kernel), stride: SizePair(1, stride), padding: SizePair(0, padding),
                             groups: groups, lengthOnly: true, at: site)
        guard input.count == 2 else {
            throw site.error("conv1d needs a [channels, length] input but gets \(LayerSite.text(input))")
        }
        try ConvChecks.groups(groups, channels: input[0], filters: filters, at: site)
        guard kernel <= input[1] + 2 * padding else {
            throw site.error(setting: "kernel", "kernel \(kernel) is longer than its padded input \(input[1] + 2 * padding)")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] {
        initializer.parameters(weight: [filters, input[0] / groups, kernel], bias: [filters],
                               fanIn: Sizes.product([input[0] / groups, kernel]),
                               fanOut: Sizes.product([filters, kernel]), bias: bias)
    }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        let shape = graph.shape(of: x), weightShape = graph.shape(of: parameters[0])
        let image = try graph.reshape(x, to: [shape[0], shape[1], 1, shape[2]], label: label)
        let window = try graph.reshape(parameters[0], to: [weightShape[0], weightShape[1], 1, weightShape[2]], label: label)
        let settings = ConvSettings(strideHeight: 1, strideWidth: stride, padHeight: 0, padWidth: padding, groups: groups)
        var y = try graph.conv2d(image, window, settings, label: label)
        if bias { y = try graph.biasAdd(y, parameters[1], label: label) }
        let out = graph.shape(of: y)
        return try graph.reshape(y, to: [out[0], out[1], out[3]], label: label)
    }
}

extension LayerKind {
    /// `conv1d: {filters, kernel, stride, padding, groups, init, bias}`.
    public static func conv1d(filters: Int, kernel: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1,
                              initializer: WeightInit = .he, bias: Bool = true) -> LayerKind {
        LayerKind(Conv1DLayer(filters: filters, kernel: kernel, stride: stride, padding: padding, groups: groups,
                              initializer: initializer, bias: bias))
    }
}
