import CanopyCore

/// Average pooling over square windows without padding on `[channels, height, width]`: `avgpool: 2` or
/// `avgpool: {kernel: 2, stride: 2}` (stride defaults to the kernel). The windows are max pooling's: windows that
/// would cross the edge are not formed, so the output side is `(side − kernel) / stride + 1`. No parameters.
public struct AvgPoolLayer: Layer, Sendable {
    /// Window side and step between windows.
    public var kernel: Int, stride: Int

    /// An average pooling layer.
    public init(kernel: Int, stride: Int) { self.kernel = kernel; self.stride = stride }

    public static let syntax = [
        LayerSyntax(keyword: "avgpool", settings: [.integer("kernel"), .integer("stride", default: .sameAs("kernel"))],
                    shorthand: "kernel", example: "2",
                    summary: "average pooling over square windows, no padding; stride defaults to the kernel",
                    make: { .avgPool(kernel: $0.int("kernel"), stride: $0.int("stride")) }),
    ]

    public var keyword: String { "avgpool" }
    public var description: String { "avgpool \(kernel)×\(kernel) s\(stride)" }
    public var hasParameters: Bool { false }

    public func check(input: [Int], at site: LayerSite) throws {
        try site.checkSize(kernel, "kernel")
        try site.checkSize(stride, "stride")
        guard input.count == 3 else {
            throw site.error("avgpool needs a [channels, height, width] input but gets \(LayerSite.text(input))")
        }
        guard kernel <= input[1] && kernel <= input[2] else {
            throw site.error(setting: "kernel", "kernel \(kernel) is larger than its input \(input[1])×\(input[2])")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        try graph.avgPool(x, kernel: kernel, stride: stride, label: label)
    }
}

extension LayerKind {
    /// `avgpool: {kernel, stride}`.
    public static func avgPool(kernel: Int, stride: Int) -> LayerKind {
        LayerKind(AvgPoolLayer(kernel: kernel, stride: stride))
    }
}
