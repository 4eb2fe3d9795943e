import CanopyCore

/// Max pooling over square windows without padding on `[channels, height, width]`: `maxpool: 2` or
/// `maxpool: {kernel: 2, stride: 2}` (stride defaults to the kernel). The output side comes from the graph's
/// pooling rule, `(side − kernel) / stride + 1`. No parameters.
public struct MaxPoolLayer: Layer, Sendable {
    /// Window side and step between windows.
    public var kernel: Int, stride: Int

    /// A pooling layer.
    public init(kernel: Int, stride: Int) { self.kernel = kernel; self.stride = stride }

    public static let syntax = [
        LayerSyntax(keyword: "maxpool", settings: [.integer("kernel"), .integer("stride", default: .sameAs("kernel"))],
                    shorthand: "kernel", example: "2",
                    summary: "max pooling over square windows, no padding; stride defaults to the kernel",
                    make: { .maxPool(kernel: $0.int("kernel"), stride: $0.int("stride")) }),
    ]

    public var keyword: String { "maxpool" }
    public var description: String { "maxpool \(kernel)×\(kernel) s\(stride)" }
    public var hasParameters: Bool { false }

    public func check(input: [Int], at site: LayerSite) throws {
        try site.checkSize(kernel, "kernel")
        try site.checkSize(stride, "stride")
        guard input.count == 3 else {
            throw site.error("maxpool needs a [channels, height, width] input but gets \(LayerSite.text(input))")
        }
        guard kernel <= input[1] && kernel <= input[2] else {
            throw site.error(setting: "kernel", "kernel \(kernel) is larger than its input \(input[1])×\(input[2])")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        try graph.maxPool(x, kernel: kernel, stride: stride, label: label)
    }
}

extension LayerKind {
    /// `maxpool: {kernel, stride}`.
    public static func maxPool(kernel: Int, stride: Int) -> LayerKind {
        LayerKind(MaxPoolLayer(kernel: kernel, stride: stride))
    }
}
