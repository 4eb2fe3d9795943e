import CanopyCore
import CanopyCPU
@testable import CanopyOpenCL
import CanopyTestSupport
import XCTest

/// The local-memory tiled matmul kernels (`canopy_matmul_tiled_*`) and every candidate set the tuner may choose,
/// against the CPU backend. Runs on whatever device exists (PoCL here), with tunables set directly.
final class OpenCLTiledMatmulTests: XCTestCase {
    /// A backend of its own (tunables are swapped per case), with no disk cache; kernel sources from
    /// `CANOPY_KERNEL_DIR` when it is set (to try a changed kernel, e.g. under Oclgrind, without rebuilding).
    private func backend() throws -> OpenCLBackend {
        let shared = try OpenCLTesting.backend()
        var options = OpenCLBackendOptions.environment()
        options.cacheDirectory = nil
        return try OpenCLBackend(device: .index(shared.deviceInfo.index), options: options, tunables: nil)
    }

    /// Ragged sizes (1, 7, 33, 129 and non-multiples of every tile), all four storages, alpha/beta.
    private static func matmulCalls() -> [KernelCall] {
        var calls: [KernelCall] = []
        for (m, n, k) in [(1, 1, 1), (7, 33, 129), (129, 7, 33), (33, 129, 7), (65, 70, 17), (1, 129, 200), (130, 1, 3)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                calls.append(KernelCalls.matmul(m: m, n: n, k: k, transposeA: ta, transposeB: tb, seed: 21))
                calls.append(KernelCalls.matmul(m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                                                alpha: -0.75, beta: 0.5, seed: 22))
            }
        }
        // Convolutions run batched products through the same kernels (im2col and the pointwise path).
        calls += KernelCalls.convolutionPasses(ConvGeometry(batch: 2, inChannels: 3, inHeight: 9, inWidth: 7, outChannels: 5,
                                                            kernelHeight: 3, kernelWidth: 3, padHeight: 1, padWidth: 1), seed: 23)
        calls += KernelCalls.convolutionPasses(ConvGeometry(batch: 3, inChannels: 5, inHeight: 4, inWidth: 6, outChannels: 7,
                                                            kernelHeight: 1, kernelWidth: 1), seed: 24)
        return calls
    }

    func testEveryTileThatFitsMatchesCPU() throws {
        let openCL = try backend()
        let tiles = CLTunables.tileCandidates.filter { CLTunables.tileFits($0, info: openCL.deviceInfo) }
        XCTAssertFalse(tiles.isEmpty, "no tile fits \(openCL.deviceDescription)")
        for tile in tiles {
            var tunables = CLTunables(info: openCL.deviceInfo, profile: .cpu)
            tunables.matmulTiled = true
            (tunables.tileRows, tunables.tileColumns, tunables.tileDepth, tunables.tileWorkRows, tunables.tileWorkColumns) = tile
            openCL.tunables = tunables
            XCTAssertTrue(try openCL.usesTiledMatmul(), "tile \(tile) should run the tiled kernels")
            let largest = compareAllKernels(on: openCL, and: CPUBackend(), calls: Self.matmulCalls(), quiet: true)
            print("tiled \(tile): \(largest.count) calls, largest absolute difference \(largest.values.max() ?? 0)")
        }
    }

    /// GPU-style tunables with the register-blocked kernels (what a GPU runs when the tuner prefers them, or when
    /// the tiled kernel's work-group exceeds its limit): a stored n×k B goes through the tiled transpose.
    func testGPUStyleRegisterBlockedProductsMatchCPU() throws {
        let openCL = try backend()
        var tunables = CLTunables(info: openCL.deviceInfo, profile: .gpu)
        tunables.matmulTiled = false
        openCL.tunables = tunables
        XCTAssertFalse(try openCL.usesTiledMatmul())
        compareAllKernels(on: openCL, and: CPUBackend(), calls: Self.matmulCalls(), quiet: true)
    }

    func testGPUDefaultsChooseTheTiledKernel() throws {
        let openCL = try backend()
        let gpu = CLTunables(info: openCL.deviceInfo, profile: .gpu)
        XCTAssertTrue(gpu.matmulTiled, "GPU-style defaults use the local-memory tiled matmul")
        XCTAssertFalse(CLTunables(info: openCL.deviceInfo, profile: .cpu).matmulTiled)
        XCTAssertEqual(gpu.problems(on: openCL.deviceInfo), [])
        XCTAssertTrue(gpu.options(for: .matmul).contains("-DMMT_TSM=\(gpu.tileRows)"))
    }

    func testTilesBeyondTheDeviceLimitsAreRefused() throws {
        let info = try backend().deviceInfo
        var small = info
        small.maxWorkGroupSize = 64
        small.localMemorySize = 4096
        XCTAssertFalse(CLTunables.tileFits((64, 64, 16, 4, 4), info: small), "256 work-items > 64")
        XCTAssertFalse(CLTunables.tileFits((64, 64, 8, 8, 8), info: small), "4 KiB local arrays > 3/4 of 4 KiB")
        XCTAssertTrue(CLTunables.tileFits((32, 32, 8, 4, 4), info: small))
        XCTAssertFalse(CLTunables.tileFits((32, 32, 12, 4, 4), info: small), "12 · (32 + 32 + 2) floats > 3 KiB")
        XCTAssertFalse(CLTunables.tileFits((30, 32, 8, 4, 4), info: small), "30 is not a multiple of 4")
        let defaults = CLTunables(info: small, profile: .gpu)
        XCTAssertTrue(CLTunables.tileFits((defaults.tileRows, defaults.tileColumns, defaults.tileDepth,
                                           defaults.tileWorkRows, defaults.tileWorkColumns), info: small))
    }

    /// Every candidate of every group the tuner measures (from the device's defaults) passes the standard parity
    /// calls of the kernels that group changes.
    func testEveryTunerCandidateMatchesCPU() throws {
        let openCL = try backend()
        let info = openCL.deviceInfo
        let standard = KernelCalls.standard(seed: 4)
        let matmuls = standard.filter { $0.name.hasPrefix("matmul") || $0.name.hasPrefix("conv2d") }
        let reductions = [1, 7, 33, 129, 4099, 65_537].flatMap {
            [KernelCalls.sum(count: $0, squares: false), KernelCalls.sum(count: $0, squares: true)]
        }
        let elementwise = [1, 7, 33, 129, 1025].flatMap { count in
            UnaryFunction.allCases.map { KernelCalls.unary($0, count: count, seed: 5) }
        } + standard.filter { $0.name.hasPrefix("biasAdd") || $0.name.hasPrefix("copy") }
        var checked = 0
        for profile in [OpenCLTuningProfile.automatic] {
            let start = CLTunables(info: info, profile: profile)
            let groups: [([CLTunables], [KernelCall])] = [
                (CLTuner.registerBlocks(from: start), matmuls),
                (CLTuner.workGroups(from: start, info: info), matmuls),
                (CLTuner.matmulKernels(from: start, info: info), matmuls),
                (CLTuner.reductions(from: start, info: info), reductions),
                (CLTuner.elementwiseGroups(from: start, info: info), elementwise),
            ]
            for (candidates, calls) in groups {
                for candidate in candidates {
                    XCTAssertEqual(candidate.problems(on: info), [], "a candidate the device cannot run")
                    openCL.tunables = candidate
                    let before = testRun?.failureCount ?? 0
                    compareAllKernels(on: openCL, and: CPUBackend(), calls: calls, quiet: true)
                    if (testRun?.failureCount ?? 0) > before { print("failing candidate: \(candidate)") }
                    checked += 1
                }
            }
        }
        print("tuner candidates checked: \(checked)")
    }
}
