import CanopyCore
import Foundation

// Standard calls of the kernels behind the activation and pooling layers added with issue 7: the parametric
// unary functions (leaky ReLU, ELU), average pooling and row means (global average pooling).

extension KernelCalls {
    /// The slopes and alphas the standard calls use: PyTorch's defaults and one other value each.
    public static let parametricUnaryParameters: [(ParametricUnaryFunction, Float)] = [
        (.leakyRelu, 0.01), (.leakyRelu, 0.2), (.elu, 1), (.elu, 0.5),
    ]

    /// Rows and columns of the standard row-mean calls: single elements, awkward sizes, and long rows that a
    /// row team shares.
    public static let rowMeanSizes: [(rows: Int, cols: Int)] = [(1, 1), (7, 33), (6, 129), (2, 4099)]

    /// Rows and columns of the standard layer-normalization calls: awkward sizes (1, 7, 33, 129 features) and a
    /// long row that a row team shares.
    public static let layerNormSizes: [(rows: Int, cols: Int)] = [(1, 1), (7, 7), (3, 33), (6, 129), (2, 4099)]

    /// Calls of the layer kernels for ``standard(seed:)``.
    static func standardLayerCalls(seed: UInt64) -> [KernelCall] {
        var calls: [KernelCall] = []
        for (function, parameter) in parametricUnaryParameters {
            for count in [1, 129] {
                calls += [parametricUnary(function, parameter: parameter, count: count, seed: seed),
                          parametricUnaryBackward(function, parameter: parameter, count: count, seed: seed)]
            }
        }
        for geometry in poolGeometries {
            calls += [avgPool(geometry, seed: seed), avgPoolBackward(geometry, seed: seed)]
        }
        for (rows, cols) in rowMeanSizes {
            calls += [rowMean(rows: rows, cols: cols, seed: seed), rowMeanBackward(rows: rows, cols: cols, seed: seed)]
        }
        for (rows, cols) in layerNormSizes {
            calls += [layerNorm(rows: rows, cols: cols, seed: seed), layerNormBackward(rows: rows, cols: cols, seed: seed)]
        }
        return calls
    }

    /// `y = f(x; α)` for x in [-4, 4], kept away from the kink at 0.
    public static func parametricUnary(_ function: ParametricUnaryFunction, parameter: Float, count: Int,
                                       seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("parametricUnary.\(function.rawValue) α=\(parameter) \(count)",
                          buffers: ["x": random.floatsAwayFromZero(count, maximum: 4), "y": .nan(count)],
                          outputs: ["y"]) {
            .parametricUnary(function, parameter: parameter, x: try $0["x"], y: try $0["y"], count: count)
        }
    }

    /// `dx = f′(x; α)·dy` for x in [-4, 4], kept away from 0.
    public static func parametricUnaryBackward(_ function: ParametricUnaryFunction, parameter: Float, count: Int,
                                               seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("parametricUnaryBackward.\(function.rawValue) α=\(parameter) \(count)",
                          buffers: ["x": random.floatsAwayFromZero(count, maximum: 4), "dy": random.floats(count),
                                    "dx": .nan(count)], outputs: ["dx"]) {
            .parametricUnaryBackward(function, parameter: parameter, x: try $0["x"], dy: try $0["dy"],
                                     dx: try $0["dx"], count: count)
        }
    }

    /// The parametric unary functions in double precision (PyTorch's formulas), for host-side references.
    public static func referenceParametricUnary(_ function: ParametricUnaryFunction, _ alpha: Double,
                                                _ x: Double) -> Double {
        switch function {
        case .leakyRelu: return x > 0 ? x : alpha * x
        case .elu: return x > 0 ? x : alpha * Foundation.expm1(x)
        }
    }

    public static func avgPool(_ g: PoolGeometry, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("avgPool \(describe(g))", buffers: ["input": random.floats(g.inputCount),
                          "output": .nan(g.outputCount)], outputs: ["output"]) {
            .avgPool(input: try $0["input"], output: try $0["output"], geometry: g)
        }
    }

    public static func avgPoolBackward(_ g: PoolGeometry, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("avgPoolBackward \(describe(g))", buffers: ["dOutput": random.floats(g.outputCount),
                          "dInput": .nan(g.inputCount)], outputs: ["dInput"]) {
            .avgPoolBackward(dOutput: try $0["dOutput"], dInput: try $0["dInput"], geometry: g)
        }
    }

    /// Row means of values in [-1, 1] (tolerance relative to √cols, as summation orders differ).
    public static func rowMean(rows: Int, cols: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let tolerance = Tolerance(absolute: 1e-6 * Float(cols).squareRoot() * 4, relative: 1e-4)
        return KernelCall("rowMean \(rows)×\(cols)", buffers: ["x": random.floats(rows * cols), "y": .nan(rows)],
                          outputs: ["y"], tolerance: tolerance) {
            .rowMean(x: try $0["x"], y: try $0["y"], rows: rows, cols: cols)
        }
    }

    public static func rowMeanBackward(rows: Int, cols: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        return KernelCall("rowMeanBackward \(rows)×\(cols)", buffers: ["dy": random.floats(rows),
                          "dx": .nan(rows * cols)], outputs: ["dx"]) {
            .rowMeanBackward(dy: try $0["dy"], dx: try $0["dx"], rows: rows, cols: cols)
        }
    }

    /// Layer normalization of x in [-1, 1] shifted by 3 (a mean far from 0), with gamma in [-1, 1].
    public static func layerNorm(rows: Int, cols: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        let tolerance = Tolerance(absolute: 1e-5 * Float(cols).squareRoot() * 4, relative: 1e-4)
        return KernelCall("layerNorm \(rows)×\(cols)",
                          buffers: ["x": random.floats(rows * cols).map { $0 + 3 }, "gamma": random.floats(cols),
                                    "y": .nan(rows * cols), "normalized": .nan(rows * cols), "rstd": .nan(rows)],
                          outputs: ["y", "normalized", "rstd"], tolerance: tolerance) {
            .layerNorm(x: try $0["x"], gamma: try $0["gamma"], y: try $0["y"], normalized: try $0["normalized"],
                       rstd: try $0["rstd"], rows: rows, cols: cols, eps: 1e-5)
        }
    }

    /// The input gradient of layer normalization from a normalized x̂ with zero mean and unit variance per row.
    public static func layerNormBackward(rows: Int, cols: Int, seed: UInt64 = 1) -> KernelCall {
        var random = TestRandom(seed: seed)
        var normalized: [Float] = []
        for _ in 0..<rows {
            let row = random.floats(cols)
            let mean = row.reduce(0, +) / Float(cols)
            let deviation = (row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(cols) + 1e-5).squareRoot()
            normalized += row.map { ($0 - mean) / deviation }
        }
        let rstd = random.floats(rows).map { 1 + abs($0) }
        let tolerance = Tolerance(absolute: 1e-5 * Float(cols).squareRoot() * 4, relative: 1e-4)
        return KernelCall("layerNormBackward \(rows)×\(cols)",
                          buffers: ["normalized": normalized, "rstd": rstd, "gamma": random.floats(cols),
                                    "dy": random.floats(rows * cols), "dx": .nan(rows * cols)],
                          outputs: ["dx"], tolerance: tolerance) {
            .layerNormBackward(normalized: try $0["normalized"], rstd: try $0["rstd"], gamma: try $0["gamma"],
                               dy: try $0["dy"], dx: try $0["dx"], rows: rows, cols: cols)
        }
    }
}
