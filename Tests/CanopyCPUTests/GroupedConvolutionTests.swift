import CanopyCore
import CanopyCPU
import CanopyTestSupport
import XCTest

/// Grouped, depthwise and rectangular convolutions against the naive double-precision reference, and depthwise
/// convolution against per-channel ordinary ones (a check that does not share the reference's group indexing).
final class GroupedConvolutionTests: XCTestCase {
    static let geometries: [ConvGeometry] = [
        // 2 groups, 3×5 kernel, stride 2×1, padding 1×2
        ConvGeometry(batch: 3, inChannels: 4, inHeight: 6, inWidth: 9, outChannels: 6, kernelHeight: 3,
                     kernelWidth: 5, strideHeight: 2, strideWidth: 1, padHeight: 1, padWidth: 2, groups: 2),
        // depthwise, 5×1 kernel
        ConvGeometry(batch: 2, inChannels: 5, inHeight: 8, inWidth: 3, outChannels: 5, kernelHeight: 5,
                     kernelWidth: 1, strideHeight: 1, strideWidth: 2, padHeight: 2, padWidth: 0, groups: 5),
        // groups = filters < channels: each filter reads 3 channels
        ConvGeometry(batch: 4, inChannels: 6, inHeight: 4, inWidth: 4, outChannels: 2, kernelHeight: 2,
                     kernelWidth: 2, groups: 2),
    ]

    /// Every geometry at a large column budget, and at budgets that split the batch into several image batches
    /// (the weight gradient accumulating across them per group).
    func testGroupedAndRectangularAgainstNaive() throws {
        var largest: Float = 0
        for g in Self.geometries + KernelCalls.convGeometries.filter({ $0.groups > 1 }) {
            for budget in [1 << 20, 2 * g.groupChannels * g.kernelHeight * g.kernelWidth * g.outHeight * g.outWidth, 1] {
                let cpu = CPUBackend(columnBudget: budget)
                let forward = KernelCalls.conv2d(g, seed: 11)
                largest = max(largest, assertClose(try forward.run(on: cpu)["output"]!,
                    Naive.conv2d(input: forward.values("input"), weight: forward.values("weight"), g),
                    tolerance: KernelCalls.product, forward.name).absolute)
                let backInput = KernelCalls.conv2dBackwardInput(g, seed: 12)
                largest = max(largest, assertClose(try backInput.run(on: cpu)["dInput"]!,
                    Naive.conv2dBackwardInput(dOutput: backInput.values("dOutput"), weight: backInput.values("weight"), g),
                    tolerance: KernelCalls.product, backInput.name).absolute)
                let backWeight = KernelCalls.conv2dBackwardWeight(g, seed: 13)
                largest = max(largest, assertClose(try backWeight.run(on: cpu)["dWeight"]!,
                    Naive.conv2dBackwardWeight(input: backWeight.values("input"), dOutput: backWeight.values("dOutput"), g),
                    tolerance: KernelCalls.product, backWeight.name).absolute)
            }
        }
        print("grouped conv2d vs naive: largest abs diff \(largest)")
    }

    /// A depthwise convolution's channel c is the ordinary one-channel convolution of input channel c with
    /// filter c.
    func testDepthwiseIsEachChannelConvolvedAlone() throws {
        let cpu = CPUBackend()
        let g = Self.geometries[1]
        let call = KernelCalls.conv2d(g, seed: 21)
        let output = try call.run(on: cpu)["output"]!
        let input = call.values("input"), weight = call.values("weight")
        var single = g
        single.inChannels = 1; single.outChannels = 1; single.groups = 1; single.batch = 1
        let plane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth, taps = g.kernelHeight * g.kernelWidth
        for n in 0..<g.batch {
            for c in 0..<g.inChannels {
                let start = (n * g.inChannels + c) * plane
                let alone = KernelCall("channel \(c)", buffers: [
                    "input": Array(input[start..<start + plane]), "weight": Array(weight[c * taps..<(c + 1) * taps]),
                    "output": .nan(outPlane)], outputs: ["output"], tolerance: KernelCalls.product) {
                    .conv2d(input: try $0["input"], weight: try $0["weight"], output: try $0["output"], geometry: single)
                }
                let expected = try alone.run(on: cpu)["output"]!
                let outStart = (n * g.outChannels + c) * outPlane
                assertClose(Array(output[outStart..<outStart + outPlane]), expected, tolerance: KernelCalls.product,
                            "image \(n) channel \(c)")
            }
        }
    }

    /// The contract refuses groups that do not divide the channels or the filters, and counts the weight as
    /// F·(C/G)·KH·KW.
    func testContractChecksGroups() throws {
        let cpu = CPUBackend()
        let g = ConvGeometry(batch: 1, inChannels: 6, inHeight: 3, inWidth: 3, outChannels: 4, kernelHeight: 1,
                             kernelWidth: 1, groups: 4)
        XCTAssertEqual(ConvGeometry(batch: 1, inChannels: 6, inHeight: 3, inWidth: 3, outChannels: 4, kernelHeight: 2,
                                    kernelWidth: 3, groups: 2).weightCount, 4 * 3 * 2 * 3)
        let call = KernelCalls.conv2d(g)
        XCTAssertThrowsError(try call.run(on: cpu)) { error in
            XCTAssertTrue("\(error)".contains("groups (4) must divide inChannels (6)"), "\(error)")
        }
    }
}
