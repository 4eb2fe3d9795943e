import CanopyCore
import CanopyTestSupport
import Foundation

/// Straightforward double-precision implementations of kernels, written independently of CanopyCPU, that the
/// CPU backend is checked against.
enum Naive {
    static func matmul(a: [Float], b: [Float], c: [Float], _ s: MatmulShape) -> [Float] {
        var result = [Float](repeating: 0, count: s.m * s.n)
        for i in 0..<s.m {
            for j in 0..<s.n {
                var total = 0.0
                for p in 0..<s.k {
                    let av = s.transposeA ? a[p * s.m + i] : a[i * s.k + p]
                    let bv = s.transposeB ? b[j * s.k + p] : b[p * s.n + j]
                    total += Double(av) * Double(bv)
                }
                let old = s.beta == 0 ? 0 : Double(s.beta) * Double(c[i * s.n + j])
                result[i * s.n + j] = Float(Double(s.alpha) * total + old)
            }
        }
        return result
    }

    /// Calls `body(inputIndex?, weightIndex, outputIndex)` for every term of the convolution sum; `inputIndex`
    /// is nil where the window reads padding. Filter f reads the channels of its group, f / (F/G), through
    /// weight [f, c − group·C/G, kh, kw].
    static func forEachConvTerm(_ g: ConvGeometry, _ body: (Int?, Int, Int) -> Void) {
        let channelsPerGroup = g.inChannels / g.groups, filtersPerGroup = g.outChannels / g.groups
        for n in 0..<g.batch {
            for f in 0..<g.outChannels {
                let firstChannel = (f / filtersPerGroup) * channelsPerGroup
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        let o = ((n * g.outChannels + f) * g.outHeight + oh) * g.outWidth + ow
                        for c in firstChannel..<firstChannel + channelsPerGroup {
                            for kh in 0..<g.kernelHeight {
                                for kw in 0..<g.kernelWidth {
                                    let h = oh * g.strideHeight - g.padHeight + kh
                                    let w = ow * g.strideWidth - g.padWidth + kw
                                    let inside = h >= 0 && h < g.inHeight && w >= 0 && w < g.inWidth
                                    let i = inside ? ((n * g.inChannels + c) * g.inHeight + h) * g.inWidth + w : nil
                                    let wc = c - firstChannel
                                    let wi = ((f * channelsPerGroup + wc) * g.kernelHeight + kh) * g.kernelWidth + kw
                                    body(i, wi, o)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static func conv2d(input: [Float], weight: [Float], _ g: ConvGeometry) -> [Float] {
        var out = [Double](repeating: 0, count: g.outputCount)
        forEachConvTerm(g) { i, w, o in if let i { out[o] += Double(input[i]) * Double(weight[w]) } }
        return out.map(Float.init)
    }

    static func conv2dBackwardInput(dOutput: [Float], weight: [Float], _ g: ConvGeometry) -> [Float] {
        var dx = [Double](repeating: 0, count: g.inputCount)
        forEachConvTerm(g) { i, w, o in if let i { dx[i] += Double(dOutput[o]) * Double(weight[w]) } }
        return dx.map(Float.init)
    }

    static func conv2dBackwardWeight(input: [Float], dOutput: [Float], _ g: ConvGeometry) -> [Float] {
        var dw = [Double](repeating: 0, count: g.weightCount)
        forEachConvTerm(g) { i, w, o in if let i { dw[w] += Double(input[i]) * Double(dOutput[o]) } }
        return dw.map(Float.init)
    }

    /// Max pooling: (output, indices), first maximum in row-major window order.
    static func maxPool(_ x: [Float], _ g: PoolGeometry) -> ([Float], [Float]) {
        var output: [Float] = [], indices: [Float] = []
        for plane in 0..<g.batch * g.channels {
            let base = plane * g.inHeight * g.inWidth
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    var best = -Float.infinity, bestIndex = -1
                    for h in oh * g.stride..<oh * g.stride + g.kernel {
                        for w in ow * g.stride..<ow * g.stride + g.kernel {
                            if bestIndex < 0 || x[base + h * g.inWidth + w] > best {
                                best = x[base + h * g.inWidth + w]; bestIndex = h * g.inWidth + w
                            }
                        }
                    }
                    output.append(best); indices.append(Float(bestIndex))
                }
            }
        }
        return (output, indices)
    }
}

/// PyTorch's element-wise loss formulas in double precision, written from their documentation.
enum NaiveLoss {
    static func softplus(_ x: Double) -> Double { max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x))) }

    static func value(_ loss: RowLossUnderTest, _ p: Double, _ t: Double) -> Double {
        switch loss {
        case let .binaryCrossEntropy(w):
            // −[w·t·log σ(z) + (1−t)·log(1 − σ(z))], with −log σ(z) = softplus(−z) and −log(1 − σ(z)) = softplus(z).
            return Double(w) * t * softplus(-p) + (1 - t) * softplus(p)
        case .regression(.meanSquaredError): return (p - t) * (p - t)
        case .regression(.l1): return abs(p - t)
        case let .regression(.huber(delta)):
            let d = p - t, a = abs(d), delta = Double(delta)
            return a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta)
        }
    }

    static func derivative(_ loss: RowLossUnderTest, _ p: Double, _ t: Double) -> Double {
        let d = p - t, sign: Double = d > 0 ? 1 : (d < 0 ? -1 : 0)
        switch loss {
        case let .binaryCrossEntropy(w):
            let s = 1 / (1 + Foundation.exp(-p))
            return -Double(w) * t * (1 - s) + (1 - t) * s
        case .regression(.meanSquaredError): return 2 * d
        case .regression(.l1): return sign
        case let .regression(.huber(delta)): return abs(d) <= Double(delta) ? d : Double(delta) * sign
        }
    }
}
