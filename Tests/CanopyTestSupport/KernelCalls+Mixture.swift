import CanopyCore
import Foundation

// KernelCalls for block copies (concatenation, slicing) and the mixture of experts with its two gradients.

extension KernelCalls {
    /// Block copies of ``standard(seed:)``: one element, a concatenation part written at an offset into a wider
    /// matrix, a slice read from an offset of a wider matrix, and strides and offsets on both sides.
    public static let copyBlockShapes: [(rows: Int, cols: Int, xStride: Int, xOffset: Int, yStride: Int, yOffset: Int)] = [
        (1, 1, 1, 0, 1, 0),
        (7, 5, 5, 0, 12, 3),
        (33, 4, 9, 2, 4, 0),
        (129, 33, 40, 7, 35, 1),
    ]

    /// Mixture sizes of ``standard(seed:)`` as (rows, experts, features).
    public static let mixtureShapes: [(rows: Int, experts: Int, features: Int)] = [
        (1, 1, 1), (7, 3, 5), (33, 8, 129), (129, 3, 64),
    ]

    /// The number of elements a `rows × cols` block at `offset` with row `stride` spans: `(rows−1)·stride +
    /// offset + cols`.
    public static func blockExtent(rows: Int, cols: Int, stride: Int, offset: Int) -> Int {
        (rows - 1) * stride + offset + cols
    }

    /// A block copy from x (values in [-1, 1]) into a y that already holds values in [10, 20] plus `ySlack`
    /// elements past the block's end: everything outside the block must come out as it went in.
    public static func copyBlock(rows: Int, cols: Int, xStride: Int, xOffset: Int, yStride: Int, yOffset: Int,
                                 ySlack: Int = 3, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let xCount = blockExtent(rows: rows, cols: cols, stride: xStride, offset: xOffset)
        let yCount = blockExtent(rows: rows, cols: cols, stride: yStride, offset: yOffset) + ySlack
        let name = "copyBlock \(rows)×\(cols) x[\(xStride)·r+\(xOffset)] → y[\(yStride)·r+\(yOffset)]"
        return KernelCall(name, buffers: ["x": random.floats(xCount), "y": random.floats(yCount, in: 10...20)],
                          outputs: ["y"], tolerance: .exact) {
            .copyBlock(x: try $0["x"], y: try $0["y"], rows: rows, cols: cols, xStride: xStride, xOffset: xOffset,
                       yStride: yStride, yOffset: yOffset)
        }
    }

    /// `y[n, f] = Σ_e gates[n, e] · values[n, e, f]` with gates in [0, 1] and values in [-1, 1]; y starts as NaN.
    public static func mixture(rows: Int, experts: Int, features: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("mixture \(rows)×\(experts)×\(features)", buffers: [
            "gates": random.floats(rows * experts, in: 0...1), "values": random.floats(rows * experts * features),
            "y": .nan(rows * features)], outputs: ["y"], tolerance: product) {
            .mixture(gates: try $0["gates"], values: try $0["values"], y: try $0["y"], rows: rows, experts: experts,
                     features: features)
        }
    }

    /// `dGates[n, e] = Σ_f dy[n, f] · values[n, e, f]`; dGates starts as NaN.
    public static func mixtureBackwardGates(rows: Int, experts: Int, features: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("mixtureBackwardGates \(rows)×\(experts)×\(features)", buffers: [
            "values": random.floats(rows * experts * features), "dy": random.floats(rows * features),
            "dGates": .nan(rows * experts)], outputs: ["dGates"], tolerance: product) {
            .mixtureBackwardGates(values: try $0["values"], dy: try $0["dy"], dGates: try $0["dGates"], rows: rows,
                                  experts: experts, features: features)
        }
    }

    /// `dValues[n, e, f] = gates[n, e] · dy[n, f]`: one product per element, so backends agree exactly; dValues
    /// starts as NaN. With `accumulate` it starts with values in [-1, 1] and the products are added to them (a
    /// device may fuse the product and the sum, so backends agree to a rounding).
    public static func mixtureBackwardValues(rows: Int, experts: Int, features: Int, accumulate: Bool = false,
                                             seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let gates = random.floats(rows * experts, in: 0...1), dy = random.floats(rows * features)
        let start: [Float] = accumulate ? random.floats(rows * experts * features) : .nan(rows * experts * features)
        return KernelCall("mixtureBackwardValues \(rows)×\(experts)×\(features)\(accumulate ? " accumulating" : "")",
                          buffers: ["gates": gates, "dy": dy, "dValues": start], outputs: ["dValues"],
                          tolerance: accumulate ? .float32 : .exact) {
            .mixtureBackwardValues(gates: try $0["gates"], dy: try $0["dy"], dValues: try $0["dValues"], rows: rows,
                                   experts: experts, features: features, accumulate: accumulate)
        }
    }

    /// A softmax gate with its mixture: logits in [-4, 4] (a row of one expert included), values in [-1, 1];
    /// gates and y start as NaN.
    public static func mixtureSoftmax(rows: Int, experts: Int, features: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("mixtureSoftmax \(rows)×\(experts)×\(features)", buffers: [
            "logits": random.floats(rows * experts, in: -4...4), "values": random.floats(rows * experts * features),
            "gates": .nan(rows * experts), "y": .nan(rows * features)], outputs: ["gates", "y"], tolerance: product) {
            .mixtureSoftmax(logits: try $0["logits"], values: try $0["values"], gates: try $0["gates"], y: try $0["y"],
                            rows: rows, experts: experts, features: features)
        }
    }

    /// The gates gradient through their softmax: gates a softmax of random logits (rows summing to 1), values
    /// and dy in [-1, 1]; dLogits starts as NaN.
    public static func mixtureBackwardLogits(rows: Int, experts: Int, features: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let logits = random.floats(rows * experts, in: -3...3)
        let gates = (0..<rows).flatMap { n -> [Float] in
            let row = logits[(n * experts)..<((n + 1) * experts)]
            let top = row.max()!, exps = row.map { Float(exp(Double($0 - top))) }, total = exps.reduce(0, +)
            return exps.map { $0 / total }
        }
        return KernelCall("mixtureBackwardLogits \(rows)×\(experts)×\(features)", buffers: [
            "values": random.floats(rows * experts * features), "gates": gates, "dy": random.floats(rows * features),
            "dLogits": .nan(rows * experts)], outputs: ["dLogits"], tolerance: product) {
            .mixtureBackwardLogits(values: try $0["values"], gates: try $0["gates"], dy: try $0["dy"],
                                   dLogits: try $0["dLogits"], rows: rows, experts: experts, features: features)
        }
    }

    /// Every block copy and mixture call of ``standard(seed:)``.
    public static func standardMixtureCalls(seed: UInt64 = 1) -> [KernelCall] {
        var calls: [KernelCall] = []
        for s in copyBlockShapes {
            calls.append(copyBlock(rows: s.rows, cols: s.cols, xStride: s.xStride, xOffset: s.xOffset,
                                   yStride: s.yStride, yOffset: s.yOffset, seed: seed))
        }
        for s in mixtureShapes {
            calls += [mixture(rows: s.rows, experts: s.experts, features: s.features, seed: seed),
                      mixtureBackwardGates(rows: s.rows, experts: s.experts, features: s.features, seed: seed),
                      mixtureBackwardValues(rows: s.rows, experts: s.experts, features: s.features, seed: seed),
                      mixtureBackwardValues(rows: s.rows, experts: s.experts, features: s.features, accumulate: true,
                                            seed: seed),
                      mixtureSoftmax(rows: s.rows, experts: s.experts, features: s.features, seed: seed),
                      mixtureBackwardLogits(rows: s.rows, experts: s.experts, features: s.features, seed: seed)]
        }
        return calls
    }
}
