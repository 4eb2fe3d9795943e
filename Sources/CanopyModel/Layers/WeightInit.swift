import CanopyCore

/// How a `dense` or `conv2d` layer's parameters start: `init: he | glorot | pytorch`.
///
/// - `he` (the default): He-uniform weights, U(±√(6/fan_in)), and zero biases.
/// - `glorot`: Glorot-uniform weights, U(±√(6/(fan_in + fan_out))), and zero biases.
/// - `pytorch`: PyTorch's default for `Linear` and `Conv2d`: weights and biases both U(±1/√fan_in), so results can
///   be compared with PyTorch's.
///
/// fan_in is the inputs of one output (`in`, or `channels·kernel²`); fan_out the outputs of one input (`units`, or
/// `filters·kernel²`), as PyTorch computes them.
public enum WeightInit: String, CaseIterable, Hashable, Sendable {
    case he, glorot, pytorch

    /// The words a model file may write, in order.
    static var words: [String] { allCases.map(\.rawValue) }

    /// A layer's `weight` (of `shape`) and, when `bias`, its `bias` (of `biasShape`), in creation order.
    func parameters(weight shape: [Int], bias biasShape: [Int], fanIn: Int, fanOut: Int, bias: Bool) -> [LayerParameter] {
        let weight: ParameterInit, biasInit: ParameterInit
        switch self {
        case .he: (weight, biasInit) = (.heUniform(fanIn: fanIn), .zeros)
        case .glorot: (weight, biasInit) = (.glorotUniform(fanIn: fanIn, fanOut: fanOut), .zeros)
        case .pytorch:
            let bound = 1 / Float(max(fanIn, 1)).squareRoot()
            (weight, biasInit) = (.uniform(bound: bound), .uniform(bound: bound))
        }
        let weightParameter = LayerParameter("weight", shape: shape, initializer: weight)
        return bias ? [weightParameter, LayerParameter("bias", shape: biasShape, initializer: biasInit)] : [weightParameter]
    }

    /// ` init glorot`, ` no bias`: what a layer's summary description adds to say how it differs from the default.
    func describe(bias: Bool) -> String {
        (self == .he ? "" : " init \(rawValue)") + (bias ? "" : " no bias")
    }
}
