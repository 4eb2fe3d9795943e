import CanopyCore

/// A 2-D convolution on `[channels, height, width]` with a square kernel and zero padding on every side:
/// `conv2d: {filters: 16, kernel: 3, stride: 1, padding: 1}` (stride default 1, padding default 0). The output
/// is `[filters, side']` with side' from the graph's convolution rule, `(side + 2·padding − kernel) / stride + 1`.
///
/// Parameters: `weight` [filters, channels, kernel, kernel] (He-uniform, fan-in `channels·kernel²`) and `bias`
/// [filters] (zeros).
public struct Conv2DLayer: Layer {
    /// Output channels, kernel side, step between windows, and zeros added on each side.
    public var filters: Int, kernel: Int, stride: Int, padding: Int

    /// A convolution layer.
    public init(filters: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.filters = filters; self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public static let syntax = [
        LayerSyntax(keyword: "conv2d",
                    settings: [.integer("filters"), .integer("kernel"), .integer("stride", default: .integer(1)),
                               .integer("padding", default: .integer(0))],
                    example: "{filters: 16, kernel: 3, padding: 1}",
                    summary: "2-D convolution on [channels, height, width], square kernel, zero padding",
                    make: { .conv2d(filters: $0.int("filters"), kernel: $0.int("kernel"), stride: $0.int("stride"),
                                    padding: $0.int("padding")) }),
    ]

    public var keyword: String { "conv2d" }
    public var description: String { "conv2d \(filters)×\(kernel)×\(kernel) s\(stride) p\(padding)" }
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
        [LayerParameter("weight", shape: [filters, input[0], kernel, kernel],
                        initializer: .heUniform(fanIn: Sizes.product([input[0], kernel, kernel]))),
         LayerParameter("bias", shape: [filters], initializer: .zeros)]
    }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        try graph.biasAdd(try graph.conv2d(x, parameters[0], stride: stride, padding: padding, label: label),
                          parameters[1], label: label)
    }
}

extension LayerKind {
    /// `conv2d: {filters, kernel, stride, padding}`.
    public static func conv2d(filters: Int, kernel: Int, stride: Int = 1, padding: Int = 0) -> LayerKind {
        LayerKind(Conv2DLayer(filters: filters, kernel: kernel, stride: stride, padding: padding))
    }
}
