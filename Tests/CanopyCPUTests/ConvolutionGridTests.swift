@testable import CanopyCPU
import CanopyCore
import CanopyTestSupport
import XCTest

/// Stride-1 convolutions over padded grids (Convolution+Grid.swift, Sources/CGemm/conv.c) against the naive
/// references and the im2col path: awkward sides (1, 7, 33, 129), rectangular kernels, padding wider than the
/// kernel (the input gradient's grid then crops dOut), groups, batches below the thread count (a worker's filters
/// split) and above the weight gradient's chunk count; bits independent of the thread count; the fused epilogue.
final class ConvolutionGridTests: XCTestCase {
    /// Every geometry has at least ``CPUBackend/gridProductRows`` rows in each pass's product, up to 64 (filters
    /// forward) and 52 (channels, for an input gradient): full microkernel panels and edges of 4 and 8 rows.
    static let geometries: [ConvGeometry] = [
        ConvGeometry(batch: 1, inChannels: 12, inHeight: 1, inWidth: 1, outChannels: 13, kernelHeight: 3,
                     kernelWidth: 3, padHeight: 1, padWidth: 1),
        ConvGeometry(batch: 3, inChannels: 12, inHeight: 7, inWidth: 7, outChannels: 33, kernelHeight: 3,
                     kernelWidth: 3, padHeight: 1, padWidth: 1),
        ConvGeometry(batch: 2, inChannels: 13, inHeight: 5, inWidth: 33, outChannels: 12, kernelHeight: 2,
                     kernelWidth: 5, padHeight: 0, padWidth: 2),
        ConvGeometry(batch: 2, inChannels: 24, inHeight: 3, inWidth: 129, outChannels: 26, kernelHeight: 3,
                     kernelWidth: 3, padHeight: 1, padWidth: 1, groups: 2),
        ConvGeometry(batch: 9, inChannels: 12, inHeight: 6, inWidth: 6, outChannels: 12, kernelHeight: 2,
                     kernelWidth: 2, padHeight: 3, padWidth: 3),
        ConvGeometry(batch: 10, inChannels: 16, inHeight: 9, inWidth: 4, outChannels: 14, kernelHeight: 1,
                     kernelWidth: 1),
        ConvGeometry(batch: 1, inChannels: 32, inHeight: 14, inWidth: 14, outChannels: 64, kernelHeight: 3,
                     kernelWidth: 3, padHeight: 1, padWidth: 1),
        ConvGeometry(batch: 2, inChannels: 52, inHeight: 5, inWidth: 6, outChannels: 12, kernelHeight: 3,
                     kernelWidth: 3, padHeight: 1, padWidth: 1),
    ]

    func testGridsAgainstNaiveAndColumns() throws {
        let grids = CPUBackend(), columns = CPUBackend()
        columns.convolutionGrids = false
        var naive: Float = 0, apart: Float = 0
        for g in Self.geometries {
            XCTAssertTrue(grids.convolvesOverGrids(g, rows: g.groupFilters) && grids.convolvesOverGrids(g, rows: g.groupChannels)
                          || grids.matrixProductEngine != .avx512, "\(g) goes over grids")
            XCTAssertFalse(columns.convolvesOverGrids(g, rows: g.groupFilters))
            naive = max(naive, try checkConvolutionPasses(g, on: grids))
            for call in KernelCalls.convolutionPasses(g, seed: 11) {
                let a = try call.run(on: grids), b = try call.run(on: columns)
                for name in call.outputs {
                    apart = max(apart, assertClose(a[name]!, b[name]!, tolerance: KernelCalls.product, call.name).absolute)
                }
            }
        }
        print("conv2d over grids: largest abs diff vs naive \(naive), vs im2col \(apart)")
    }

    /// One, two and three threads give the same bits: whole images per worker, filters split below the thread
    /// count, the weight gradient's partials in fixed chunks.
    func testThreadCountNeverChangesBits() throws {
        for g in Self.geometries {
            for call in KernelCalls.convolutionPasses(g, seed: 3) + [KernelCalls.conv2dBias(g, activation: .relu, seed: 4)] {
                let one = try call.run(on: CPUBackend(threads: 1))
                for threads in [2, 3] {
                    let other = try call.run(on: CPUBackend(threads: threads))
                    for name in call.outputs { XCTAssertEqual(one[name], other[name], "\(call.name) \(name): 1 vs \(threads) threads") }
                }
            }
        }
    }

    /// The column budget bounds the items' scratch (at least one item): with a budget of one float every pass goes
    /// one image and one block of rows at a time, still against the naive sums and with the bits of any thread count.
    func testColumnBudgetBoundsTheScratch() throws {
        let roomy = GridWork(chunks: 8, rows: 64, threads: 2, gridFloats: 1000, columns: 100, budget: 1 << 22)
        XCTAssertEqual([roomy.chunks, roomy.rowBlocks, roomy.itemFloats], [8, 1, 1000 + 64 * 100])
        let split = GridWork(chunks: 1, rows: 64, threads: 4, gridFloats: 1000, columns: 100, budget: 1 << 22)
        XCTAssertEqual([split.chunks, split.rowBlocks, split.rowStep, split.itemFloats], [1, 3, 24, 1000 + 24 * 100])
        XCTAssertEqual((0..<3).map { split.item($0).rows }, [0..<24, 24..<48, 48..<64])
        let tight = GridWork(chunks: 8, rows: 64, threads: 4, gridFloats: 1000, columns: 100, budget: 1)
        XCTAssertEqual([tight.chunks, tight.rowBlocks, tight.items], [1, 1, 1])
        let halfway = GridWork(chunks: 8, rows: 64, threads: 2, gridFloats: 1000, columns: 100, budget: 3 * 7400)
        XCTAssertEqual([halfway.chunks, halfway.rowBlocks], [3, 1])
        for g in Self.geometries.prefix(5) {
            _ = try checkConvolutionPasses(g, on: CPUBackend(threads: 2, columnBudget: 1))
            for call in KernelCalls.convolutionPasses(g, seed: 5) {
                let one = try call.run(on: CPUBackend(threads: 1, columnBudget: 1))
                let two = try call.run(on: CPUBackend(threads: 2, columnBudget: 1))
                for name in call.outputs { XCTAssertEqual(one[name], two[name], "\(call.name) \(name) under a budget of 1") }
            }
        }
    }

    /// conv2dBias gives the bits of conv2d, then biasAdd, then the activation.
    func testEpilogueHasTheBitsOfTheSeparateKernels() throws {
        let cpu = CPUBackend()
        for g in Self.geometries {
            for activation in [nil, UnaryFunction.relu, .tanh] {
                let fused = KernelCalls.conv2dBias(g, activation: activation, seed: 9)
                let output = try fused.run(on: cpu)["output"]!
                let input = try cpu.makeBuffer(fused.values("input")), weight = try cpu.makeBuffer(fused.values("weight"))
                let bias = try cpu.makeBuffer(fused.values("bias"))
                let y = try cpu.makeBuffer(count: g.outputCount), z = try cpu.makeBuffer(count: g.outputCount)
                try cpu.execute(.conv2d(input: input, weight: weight, output: y, geometry: g))
                try cpu.execute(.biasAdd(x: y, bias: bias, y: z, outer: g.batch, channels: g.outChannels,
                                         inner: g.outHeight * g.outWidth))
                if let activation {
                    try cpu.execute(.unary(activation, x: z, y: y, count: g.outputCount))
                } else {
                    try cpu.execute(.copy(x: z, y: y, count: g.outputCount))
                }
                XCTAssertEqual(output, try cpu.download(y), "\(fused.name)")
            }
        }
    }
}
