import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// The fused product (``Kernel/matmulBias(a:b:bias:c:shape:activation:)``) gives the bits of the three calls it
/// replaces — ``Kernel/matmul(a:b:c:shape:)``, ``Kernel/biasAdd(x:bias:y:outer:channels:inner:)`` and
/// ``Kernel/unary(_:x:y:count:)`` — for every activation and transpose, in one piece and cut into pieces of rows
/// or of columns on two threads; and it is close to a double-precision reference.
final class MatmulBiasTests: XCTestCase {
    func testFusedProductEqualsProductThenBiasThenActivation() throws {
        let backend = CPUBackend(threads: 2)
        // 7×33×129 in one piece; 300×97×301 cut into pieces of rows, 41×700×300 into pieces of columns.
        for (m, n, k) in [(1, 1, 1), (7, 33, 129), (300, 97, 301), (41, 700, 300)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for activation in [nil] + UnaryFunction.allCases {
                    let call = KernelCalls.matmulBias(m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                                                      activation: activation, seed: UInt64(m * 3 + n + k))
                    let fused = try call.run(on: backend)["c"]!
                    let separate = try threeCalls(call, m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                                                  activation: activation, on: backend)
                    assertClose(fused, separate, tolerance: .exact, "\(call.name): fused against three calls")
                }
            }
        }
    }

    /// The fused convolution against conv2d, biasAdd and unary in turn, bit for bit: every standard geometry with
    /// every activation, and a batch large enough to be processed in several batches of images on two threads.
    func testFusedConvolutionEqualsConvolutionThenBiasThenActivation() throws {
        let backend = CPUBackend(threads: 2)
        let large = ConvGeometry(batch: 40, inChannels: 3, inHeight: 30, inWidth: 29, outChannels: 16, kernelHeight: 3,
                                 kernelWidth: 3, padHeight: 1, padWidth: 1)
        for geometry in KernelCalls.convGeometries + [large] {
            for activation in [nil] + UnaryFunction.allCases {
                let call = KernelCalls.conv2dBias(geometry, activation: activation, seed: 3)
                let fused = try call.run(on: backend)["output"]!
                var separate = try KernelCall("conv2d", buffers: ["input": call.values("input"), "weight": call.values("weight"),
                                                                  "output": .nan(geometry.outputCount)], outputs: ["output"]) {
                    .conv2d(input: try $0["input"], weight: try $0["weight"], output: try $0["output"], geometry: geometry)
                }.run(on: backend)["output"]!
                let planes = geometry.outHeight * geometry.outWidth
                separate = try KernelCall("biasAdd", buffers: ["x": separate, "bias": call.values("bias"),
                                                               "y": .nan(separate.count)], outputs: ["y"]) {
                    .biasAdd(x: try $0["x"], bias: try $0["bias"], y: try $0["y"], outer: geometry.batch,
                             channels: geometry.outChannels, inner: planes)
                }.run(on: backend)["y"]!
                if let activation {
                    separate = try KernelCall("unary", buffers: ["x": separate, "y": .nan(separate.count)], outputs: ["y"]) {
                        .unary(activation, x: try $0["x"], y: try $0["y"], count: geometry.outputCount)
                    }.run(on: backend)["y"]!
                }
                assertClose(fused, separate, tolerance: .exact, "\(call.name): fused against three calls")
            }
        }
    }

    func testFusedProductAgainstNaiveReference() throws {
        let backend = CPUBackend(threads: 1)
        for activation in [nil, UnaryFunction.relu, .tanh] {
            let call = KernelCalls.matmulBias(m: 33, n: 17, k: 65, transposeB: true, activation: activation, seed: 9)
            let shape = MatmulShape(m: 33, n: 17, k: 65, transposeB: true)
            let product = Naive.matmul(a: call.values("a"), b: call.values("b"), c: call.values("c"), shape)
            let bias = call.values("bias")
            let expected = product.indices.map { index -> Float in
                let value = Double(product[index]) + Double(bias[index % 17])
                return Float(activation.map { KernelCalls.referenceUnary($0, value) } ?? value)
            }
            assertClose(try call.run(on: backend)["c"]!, expected, tolerance: KernelCalls.product, call.name)
        }
    }

    /// `c` from matmul, biasAdd and (when given) unary, in three calls on `backend`.
    private func threeCalls(_ call: KernelCall, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
                            activation: UnaryFunction?, on backend: Backend) throws -> [Float] {
        func buffer(_ values: [Float]) throws -> DeviceBuffer {
            let made = try backend.makeBuffer(count: values.count)
            try backend.upload(values, to: made)
            return made
        }
        let a = try buffer(call.values("a")), b = try buffer(call.values("b")), bias = try buffer(call.values("bias"))
        let product = try buffer(.nan(m * n)), biased = try buffer(.nan(m * n)), out = try buffer(.nan(m * n))
        try backend.execute(.matmul(a: a, b: b, c: product,
                                    shape: MatmulShape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)))
        try backend.execute(.biasAdd(x: product, bias: bias, y: biased, outer: m, channels: n, inner: 1))
        var result = [Float](repeating: .nan, count: m * n)
        let last: DeviceBuffer
        if let activation {
            try backend.execute(.unary(activation, x: biased, y: out, count: m * n))
            last = out
        } else {
            last = biased
        }
        try result.withUnsafeMutableBufferPointer { try backend.download(last, offset: 0, into: $0) }
        return result
    }
}
