import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// The OpenCL convolution and pooling launches of issue 8 against the CPU backend at awkward sizes: im2col and
/// col2im on 3-D launches (col2im's unit-stride kernel and its general one), and max-pool backward one work-item
/// per window cell (stride ≥ kernel, including gaps and ragged last cells) or per input element (overlapping).
final class OpenCLConvPoolPathTests: XCTestCase {
    func testConvolutionAtAwkwardSizesMatchesCPU() throws {
        let openCL = try OpenCLTesting.backend()
        let geometries = [
            // unit stride (canopy_col2im_unit_stride), sides 1, 7, 33 and 129
            ConvGeometry(batch: 2, inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 3, kernelHeight: 3,
                         kernelWidth: 3, padHeight: 1, padWidth: 1),
            ConvGeometry(batch: 3, inChannels: 2, inHeight: 7, inWidth: 33, outChannels: 5, kernelHeight: 3,
                         kernelWidth: 3, padHeight: 1, padWidth: 1),
            ConvGeometry(batch: 1, inChannels: 4, inHeight: 3, inWidth: 129, outChannels: 4, kernelHeight: 3,
                         kernelWidth: 2, padHeight: 1, padWidth: 0, groups: 2),
            // one stride of 1 and one of 2 (the general canopy_col2im), padding wider than the kernel
            ConvGeometry(batch: 2, inChannels: 3, inHeight: 9, inWidth: 7, outChannels: 2, kernelHeight: 2,
                         kernelWidth: 3, strideHeight: 1, strideWidth: 2, padHeight: 3, padWidth: 1),
            ConvGeometry(batch: 33, inChannels: 1, inHeight: 7, inWidth: 7, outChannels: 7, kernelHeight: 3,
                         kernelWidth: 3, strideHeight: 2, strideWidth: 2, padHeight: 1, padWidth: 1),
        ]
        let calls = geometries.flatMap { KernelCalls.convolutionPasses($0, seed: 13) }
        compareAllKernels(on: openCL, and: CPUBackend(), calls: calls)
    }

    func testMaxPoolAtAwkwardSizesMatchesCPU() throws {
        let openCL = try OpenCLTesting.backend()
        let pools = [
            PoolGeometry(batch: 2, channels: 3, inHeight: 7, inWidth: 33, kernel: 2, stride: 2),   // ragged last cells
            PoolGeometry(batch: 1, channels: 2, inHeight: 3, inWidth: 129, kernel: 2, stride: 2),
            PoolGeometry(batch: 3, channels: 1, inHeight: 7, inWidth: 7, kernel: 3, stride: 3),    // stride = kernel 3
            PoolGeometry(batch: 1, channels: 2, inHeight: 10, inWidth: 13, kernel: 2, stride: 4),  // gaps
            PoolGeometry(batch: 2, channels: 1, inHeight: 1, inWidth: 7, kernel: 1, stride: 2),    // 1-row planes
            PoolGeometry(batch: 1, channels: 3, inHeight: 33, inWidth: 7, kernel: 3, stride: 2),   // overlapping
        ]
        var calls: [KernelCall] = []
        for g in pools { calls += [KernelCalls.maxPool(g, seed: 16), KernelCalls.maxPoolBackward(g, seed: 17)] }
        compareAllKernels(on: openCL, and: CPUBackend(), calls: calls)
    }
}
