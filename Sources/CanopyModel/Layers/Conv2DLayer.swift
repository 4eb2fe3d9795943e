import CanopyCore

/// A 2-D convolution on `[channels, height, width]` with a square kernel and zero padding on every side:
/// `conv2d: {filters: 16, kernel: 3, stride: 1, padding: 1}` (stride default 1, padding default 0). The output
/// is `[filters, side']` with side' from the graph's convolution rule, `(side + 2·padding − kernel) / stride + 1`.
///
/// Parameters: `weight` [filters, channels, kernel, kernel] and, unless `bias: false`, `bias` [filters], started
/// as ``WeightInit`` says (`init: he | glorot | pytorch`; by default He-uniform with fan-in `channels·kernel²`, and
/// zeros).
public struct Conv2DLayer: Layer {
    /// Output channels, kernel side, step between windows, and zeros added on each side.
    public var filters: Int, kernel: Int, stride: Int, padding: Int
    /// How the weight and bias start.
    public var initializer: WeightInit
    /// Whether the layer adds a bias.
    public var bias: Bool

    /// A convolution layer.
    public init(filters: Int, kernel: Int, stride: Int = 1, padding: Int = 0, initializer: WeightInit = .he,
                bias: Bool = true) {
        self.filters = filters; self.kernel = kernel; self.stride = stride; self.padding = padding
        self.initializer = initializer; self.bias = bias
    }

    public static let syntax = [
        LayerSyntax(keyword: "conv2d",
                    settings: [.integer("filters"), .integer("kernel"), .integer("stride", default: .integer(1)),
                               .integer("padding", default: .integer(0)),
                               .word("init", among: WeightInit.words, default: "he"), .boolean("bias", default: true)],
                    example: "{filters: 16, kernel: 3, padding: 1}",
                    summary: "2-D convolution on [channels, height, width], square kernel, zero padding",
                    make: { .conv2d(filters: $0.int("filters"), kernel: $0.int("kernel"), stride: $0.int("stride"),
                                    padding: $0.int("padding"), initializer: WeightInit(rawValue: $0.word("init"))!,
                                    bias: $0.bool("bias")) }),
    ]

    public var keyword: String { "conv2d" }
    public var description: String {
        "conv2d \(filters)×\(kernel)×\(kernel) s\(stride) p\(padding)" + initializer.describe(bias: bias)
    }
    public var hasParameters: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        try site.checkSize(filters, "filters")
        try site.checkSize(kernel, "kernel")
        try site.checkSize(stride, "stride")
        try site.checkSize(padding, "padding", min: 0)
        if padding >= kernel {
            throw site.error(setting: "padding", "padding must be smaller than the kernel (\(kernel)), got \(padding)")
        }
        guard input.count == 3 else {
            throw site.error("conv2d needs a [channels, height, width] input but gets \(LayerSite.text(input))")
        }
        let (height, width) = (input[1] + 2 * padding, input[2] + 2 * padding)
        guard kernel <= height && kernel <= width else {
            throw site.error(setting: "kernel", "kernel \(kernel) is larger than its padded input \(height)×\(width)")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] {
        initializer.parameters(weight: [filters, input[0], kernel, kernel], bias: [filters],
                               fanIn: Sizes.product([input[0], kernel, kernel]),
                               fanOut: Sizes.product([filters, kernel, kernel]), bias: bias)
    }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        let convolved = try graph.conv2d(x, parameters[0], stride: stride, padding: padding, label: label)
        return bias ? try graph.biasAdd(convolved, parameters[1], label: label) : convolved
    }
}

extension LayerKind {
    /// `conv2d: {filters, kernel, stride, padding, init, bias}`.
    public static func conv2d(filters: Int, kernel: Int, stride: Int = 1, padding: Int = 0, initializer: WeightInit = .he,
                              bias: Bool = true) -> LayerKind {
        LayerKind(Conv2DLayer(filters: filters, kernel: kernel, stride: stride, padding: padding,
                              initializer: initializer, bias: bias))
    }
}
