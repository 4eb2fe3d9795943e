import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// The OpenCL convolution and pooling paths of issue 8's speed work against the CPU backend, on the default tuning
/// (CPU drivers: canopy_conv_same for stride-1 "same" convolutions, canopy_conv_product over im2col for the others
/// and for every weight gradient, in chunks that fit a core's cache) and on the other one (GPUs: im2col and the
/// tiled products image by image). Outputs start as NaN, so an element a path forgets fails.
final class OpenCLConvDriverPathTests: XCTestCase {
    private func conv(_ n: Int, _ c: Int, _ h: Int, _ w: Int, _ f: Int, k: Int, s: Int = 1, p: Int, g: Int = 1) -> ConvGeometry {
        ConvGeometry(batch: n, inChannels: c, inHeight: h, inWidth: w, outChannels: f, kernelHeight: k, kernelWidth: k,
                     strideHeight: s, strideWidth: s, padHeight: p, padWidth: p, groups: g)
    }

    /// Every pass, and the forward with its bias and each kind of epilogue (none, relu's vector select, one
    /// applied element by element), on both tunings.
    private func compare(_ geometries: [ConvGeometry], seed: UInt64) throws {
        let activations: [UnaryFunction?] = [.relu, nil, .sigmoid, .relu, .gelu]
        var calls: [KernelCall] = []
        for (index, g) in geometries.enumerated() {
            calls += KernelCalls.convolutionPasses(g, seed: seed + UInt64(index))
            calls.append(KernelCalls.conv2dBias(g, activation: activations[index % activations.count],
                                                seed: seed + UInt64(index)))
        }
        for backend in [try OpenCLTesting.backend(), try OpenCLTesting.backendWithOtherTuning()] {
            let largest = compareAllKernels(on: backend, and: CPUBackend(), calls: calls, quiet: true)
            XCTAssertEqual(largest.count, calls.count)
            print("convolution parity: \(calls.count) calls, largest absolute difference \(largest.values.max() ?? .infinity)")
        }
    }

    /// Stride 1 with the padding that keeps the size (canopy_conv_same): images of 1×1, 5×7, 13×13 and 28×28 (whose
    /// 16-position blocks end mid-image or exactly at its end), batches 1, 7 and 33, channels 1, 3 and 7, kernels
    /// 1×1, 3×3 and 5×5, grouped and depthwise.
    func testSameConvolutionsMatchCPU() throws {
        try compare([
            conv(2, 1, 1, 1, 3, k: 3, p: 1),
            conv(7, 3, 5, 7, 7, k: 3, p: 1),
            conv(1, 7, 13, 13, 9, k: 3, p: 1),
            conv(3, 1, 28, 28, 8, k: 3, p: 1),
            conv(33, 3, 5, 7, 2, k: 5, p: 2),
            conv(2, 7, 13, 13, 3, k: 1, p: 0),                // pointwise
            conv(2, 6, 5, 7, 9, k: 3, p: 1, g: 3),            // grouped
            conv(3, 7, 13, 13, 7, k: 3, p: 1, g: 7),          // depthwise
        ], seed: 40)
    }

    /// The im2col paths: strides of 2, padding that changes the size, 1×1 with a stride, grouped and depthwise.
    func testStridedAndUnpaddedConvolutionsMatchCPU() throws {
        try compare([
            conv(7, 3, 13, 13, 5, k: 3, s: 2, p: 1),
            conv(1, 1, 28, 28, 7, k: 3, s: 2, p: 0),
            conv(33, 3, 5, 7, 4, k: 3, p: 0),
            conv(2, 7, 13, 13, 3, k: 1, s: 2, p: 0),
            conv(3, 6, 13, 13, 4, k: 3, s: 2, p: 1, g: 2),
            conv(2, 7, 5, 7, 7, k: 3, s: 2, p: 2, g: 7),
        ], seed: 50)
    }

    /// Weight gradients over several cache-sized chunks (the first overwrites, the rest accumulate), the last one
    /// short; and input gradients of the same geometry.
    func testWeightGradientInChunksMatchesCPU() throws {
        // (32·9 + 16) · 14·14 floats per image: 4 images a chunk, so 9 images are chunks of 4, 4 and 1.
        try compare([conv(9, 32, 14, 14, 16, k: 3, p: 1), conv(9, 32, 14, 14, 16, k: 3, s: 2, p: 1)], seed: 60)
    }

    /// Max pooling and its gradient: 2×2 stride-2 rows of 8 windows and more (the vector path and its scalar tail),
    /// odd sides, overlapping windows and windows with gaps.
    func testMaxPoolRowsMatchCPU() throws {
        let pools = [
            PoolGeometry(batch: 3, channels: 5, inHeight: 28, inWidth: 28, kernel: 2, stride: 2),  // 14 = 8 + 6
            PoolGeometry(batch: 1, channels: 2, inHeight: 7, inWidth: 17, kernel: 2, stride: 2),   // exactly 8
            PoolGeometry(batch: 2, channels: 1, inHeight: 5, inWidth: 41, kernel: 2, stride: 2),   // 20 = 16 + 4
            PoolGeometry(batch: 7, channels: 3, inHeight: 13, inWidth: 13, kernel: 3, stride: 2),  // overlapping
            PoolGeometry(batch: 1, channels: 1, inHeight: 1, inWidth: 1, kernel: 1, stride: 1),
            PoolGeometry(batch: 2, channels: 3, inHeight: 11, inWidth: 9, kernel: 2, stride: 3),   // gaps
        ]
        var calls: [KernelCall] = []
        for g in pools { calls += [KernelCalls.maxPool(g, seed: 70), KernelCalls.maxPoolBackward(g, seed: 71)] }
        for backend in [try OpenCLTesting.backend(), try OpenCLTesting.backendWithOtherTuning()] {
            let largest = compareAllKernels(on: backend, and: CPUBackend(), calls: calls, quiet: true)
            XCTAssertEqual(largest.count, calls.count)
        }
    }
}
