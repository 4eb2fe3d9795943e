import CanopyCore

/// A 2-D convolution on `[channels, height, width]` with zero padding:
/// `conv2d: {filters: 16, kernel: 3, stride: 1, padding: 1}` (stride default 1, padding default 0, groups default
/// 1). `kernel`, `stride` and `padding` each take one integer for both directions or a pair `[height, width]`
/// (`kernel: [3, 5], stride: [1, 2], padding: [1, 2]`). The output is `[filters, height', width']` with each side
/// from the graph's convolution rule, `(side + 2·padding − kernel) / stride + 1`.
///
/// `groups: G` splits channels and filters into G blocks, block g of the filters reading only block g of the
/// channels (both must be divisible by G); `groups` equal to the channels is a depthwise convolution.
///
/// Parameters: `weight` [filters, channels/G, kernelHeight, kernelWidth] (PyTorch's layout) and, unless
/// `bias: false`, `bias` [filters], started as ``WeightInit`` says (`init: he | glorot | pytorch`; by default
/// He-uniform with fan-in `channels/G · kernelHeight · kernelWidth`, and zeros).
public struct Conv2DLayer: Layer, Sendable {
    /// Output channels, and channel groups.
    public var filters: Int, groups: Int
    /// Kernel sides, steps between windows, and zeros added on each side, each as (height, width).
    public var kernel: SizePair, stride: SizePair, padding: SizePair
    /// How the weight and bias start.
    public var initializer: WeightInit
    /// Whether the layer adds a bias.
    public var bias: Bool

    /// A convolution layer.
    public init(filters: Int, kernel: SizePair, stride: SizePair = 1, padding: SizePair = 0, groups: Int = 1,
                initializer: WeightInit = .he, bias: Bool = true) {
        self.filters = filters; self.kernel = kernel; self.stride = stride; self.padding = padding
        self.groups = groups; self.initializer = initializer; self.bias = bias
    }

    public static let syntax = [
        LayerSyntax(keyword: "conv2d",
                    settings: [.integer("filters"), .pair("kernel"), .pair("stride", default: .integer(1)),
                               .pair("padding", default: .integer(0)), .integer("groups", default: .integer(1)),
                               .word("init", among: WeightInit.words, default: "he"), .boolean("bias", default: true)],
                    example: "{filters: 16, kernel: 3, padding: 1}",
                    summary: "2-D convolution on [channels, height, width], zero padding; kernel, stride and "
                        + "padding an integer or [height, width]; groups (depthwise when groups = channels)",
                    make: { .conv2d(filters: $0.int("filters"), kernel: SizePair($0.pair("kernel")),
                                    stride: SizePair($0.pair("stride")), padding: SizePair($0.pair("padding")),
                                    groups: $0.int("groups"), initializer: WeightInit(rawValue: $0.word("init"))!,
                                    bias: $0.bool("bias")) }),
    ]

    public var keyword: String { "conv2d" }
    /// `conv2d 16×3×3 s1 p1` for a square kernel in one group (as summaries always printed it);
    /// `conv2d 16×3×5 s1×2 p1×2 g4` otherwise.
    public var description: String {
        "conv2d \(filters)×\(kernel.height)×\(kernel.width) s\(stride) p\(padding)" + (groups == 1 ? "" : " g\(groups)")
            + initializer.describe(bias: bias)
    }
    public var hasParameters: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        try site.checkSize(filters, "filters")
        try ConvChecks.sizes(kernel: kernel, stride: stride, padding: padding, groups: groups, at: site)
        guard input.count == 3 else {
            throw site.error("conv2d needs a [channels, height, width] input but gets \(LayerSite.text(input))")
        }
        try ConvChecks.groups(groups, channels: input[0], filters: filters, at: site)
        let (height, width) = (input[1] + 2 * padding.height, input[2] + 2 * padding.width)
        guard kernel.height <= height && kernel.width <= width else {
            throw site.error(setting: "kernel", "kernel \(kernel) is larger than its padded input \(height)×\(width)")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] {
        let window = [kernel.height, kernel.width]
        return initializer.parameters(weight: [filters, input[0] / groups] + window, bias: [filters],
                                      fanIn: Sizes.product([input[0] / groups] + window),
                                      fanOut: Sizes.product([filters] + window), bias: bias)
    }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        let convolved = try graph.conv2d(x, parameters[0], settings, label: label)
        return bias ? try graph.biasAdd(convolved, parameters[1], label: label) : convolved
    }

    /// The graph op's settings.
    var settings: ConvSettings {
        ConvSettings(strideHeight: stride.height, strideWidth: stride.width, padHeight: padding.height,
                     padWidth: padding.width, groups: groups)
    }
}

/// A (height, width) size of a convolution or pooling setting; an integer literal means the same in both
/// directions. Prints as `3`, or `3×5` when the two differ.
public struct SizePair: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var height: Int, width: Int

    /// A size with separate height and width.
    public init(_ height: Int, _ width: Int) { self.height = height; self.width = width }
    /// The same size in both directions.
    public init(integerLiteral value: Int) { self.init(value, value) }
    init(_ pair: (height: Int, width: Int)) { self.init(pair.height, pair.width) }

    public var description: String { height == width ? "\(height)" : "\(height)×\(width)" }
}

/// Setting checks that conv1d and conv2d share, placed at the setting.
enum ConvChecks {
    /// Kernel and stride positive, padding at least 0 and smaller than the kernel in each direction, groups
    /// positive. conv1d passes its sizes as the widths (`lengthOnly`, so messages print only those).
    static func sizes(kernel: SizePair, stride: SizePair, padding: SizePair, groups: Int, lengthOnly: Bool = false,
                      at site: LayerSite) throws {
        for value in [kernel.height, kernel.width] { try site.checkSize(value, "kernel") }
        for value in [stride.height, stride.width] { try site.checkSize(value, "stride") }
        for value in [padding.height, padding.width] { try site.checkSize(value, "padding", min: 0) }
        try site.checkSize(groups, "groups")
        if padding.height >= kernel.height || padding.width >= kernel.width {
            let (k, p) = lengthOnly ? ("\(kernel.width)", "\(padding.width)") : ("\(kernel)", "\(padding)")
            throw site.error(setting: "padding", "padding must be smaller than the kernel (\(k)), got \(p)")
        }
    }

    /// Groups must divide both the input's channels and the filters.
    static func groups(_ groups: Int, channels: Int, filters: Int, at site: LayerSite) throws {
        if channels % groups != 0 {
            throw site.error(setting: "groups", "groups (\(groups)) must divide the input's \(channels) channels")
        }
        if filters % groups != 0 {
            throw site.error(setting: "groups", "groups (\(groups)) must divide the filters (\(filters))")
        }
    }
}

extension LayerKind {
    /// `conv2d: {filters, kernel, stride, padding, groups, init, bias}`.
    public static func conv2d(filters: Int, kernel: SizePair, stride: SizePair = 1, padding: SizePair = 0,
                              groups: Int = 1, initializer: WeightInit = .he, bias: Bool = true) -> LayerKind {
        LayerKind(Conv2DLayer(filters: filters, kernel: kernel, stride: stride, padding: padding, groups: groups,
                              initializer: initializer, bias: bias))
    }
}
