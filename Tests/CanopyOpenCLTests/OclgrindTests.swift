import CanopyCore
import CanopyCPU
@testable import CanopyOpenCL
import CanopyTestSupport
import Foundation
import XCTest

/// Every OpenCL kernel under the Oclgrind simulator, which reports what PoCL on a CPU hides: work-group data
/// races, reads and writes past a buffer's end, reads of uninitialised memory and invalid API calls.
///
/// `Scripts/oclgrind-check` runs ``testKernelCallsUnderOclgrind()`` inside `oclgrind` and fails on any report
/// or on any kernel of Kernels/*.cl that did not run; ``testEveryKernelIsCleanUnderOclgrind()`` runs that script
/// as part of the suite when oclgrind is installed.
final class OclgrindTests: XCTestCase {
    /// Set by Scripts/oclgrind-check for the test process it starts inside oclgrind.
    static let workloadVariable = "CANOPY_OCLGRIND_WORKLOAD"

    private static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Oclgrind reports itself as a CPU, a GPU and an accelerator at once; registered as an ICD it would come
    /// first and be "the first GPU". It must be picked only when named.
    func testSimulatorIsChosenOnlyWhenNamed() throws {
        func device(_ index: Int, platform: String, name: String, type: String) -> OpenCLDeviceInfo {
            OpenCLDeviceInfo(index: index, platformIndex: index, platformName: platform, platformVersion: "OpenCL 1.2",
                             deviceIndex: 0, name: name, type: type, vendor: platform, driverVersion: "1",
                             deviceVersion: "OpenCL 1.2", openCLCVersion: "OpenCL C 1.2", computeUnits: 1,
                             maxWorkGroupSize: 1024, localMemorySize: 32768, globalMemorySize: 1 << 30,
                             maxAllocationSize: 1 << 28)
        }
        let simulator = device(0, platform: "Oclgrind", name: "Oclgrind Simulator", type: "GPU")
        let pocl = device(1, platform: "Portable Computing Language", name: "pthread-cpu", type: "CPU")
        XCTAssertTrue(simulator.isSimulator)
        XCTAssertFalse(pocl.isSimulator)
        XCTAssertTrue(simulator.description.contains("simulator"))
        let both = [simulator, pocl]
        XCTAssertEqual(try OpenCLDeviceSelector.best.choose(from: both, environment: [:]), pocl)
        XCTAssertEqual(try OpenCLDeviceSelector.environment.choose(from: both, environment: [:]), pocl)
        XCTAssertEqual(try OpenCLDeviceSelector.environment.choose(from: both, environment: ["CANOPY_DEVICE": " "]), pocl)
        XCTAssertThrowsError(try OpenCLDeviceSelector.type("gpu").choose(from: both, environment: [:]))
        // Named: by name, index or platform and device.
        XCTAssertEqual(try OpenCLDeviceSelector(parsing: "oclgrind").choose(from: both, environment: [:]), simulator)
        XCTAssertEqual(try OpenCLDeviceSelector.environment.choose(from: both, environment: ["CANOPY_DEVICE": "0"]),
                       simulator)
        XCTAssertEqual(try OpenCLDeviceSelector(parsing: "0:0").choose(from: both, environment: [:]), simulator)
        // Alone (the oclgrind wrapper hides every other platform), it is still not a default.
        XCTAssertThrowsError(try OpenCLDeviceSelector.best.choose(from: [simulator], environment: [:])) { error in
            guard case let BackendError.deviceUnavailable(message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("CANOPY_DEVICE=oclgrind"), message)
        }
    }

    /// The calls Scripts/oclgrind-check runs under oclgrind, with each tuning family's tunables (`.gpu`, then
    /// `.cpu`); skipped otherwise. Reads kernels from `CANOPY_KERNEL_DIR` when it is set (so the check itself can
    /// be tried on a deliberately broken copy of Kernels/), and keeps no disk cache.
    /// `CANOPY_OCLGRIND_CALLS=sum,matmul` runs only the calls whose names contain one of the words.
    /// Prints `oclgrind-kernel-declared: <name>` for every kernel of the table built from Kernels/*.cl, and
    /// `oclgrind-call: <tuning> <call>` before each call (stdout unbuffered, so a report follows its call).
    func testKernelCallsUnderOclgrind() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment[Self.workloadVariable] == "1" else {
            throw XCTSkip("runs only inside oclgrind, started by Scripts/oclgrind-check")
        }
        // Each line is flushed at once, so that what ran is on record even if the simulator aborts.
        for kernel in CLKernels.all { print("oclgrind-kernel-declared: \(kernel.name)") }
        fflush(nil)
        let cpu = CPUBackend()
        // gpu-style products use the local-memory tiled kernels; "gpu-registers" runs the products again with the
        // GPU family's register-blocked kernels (and their tiled transpose), which a tuning may choose instead.
        let styles: [(String, OpenCLTuningProfile, UInt64, tiled: Bool, onlyProducts: Bool)] = [
            ("gpu-style", .gpu, 1, true, false), ("gpu-registers", .gpu, 3, false, true), ("cpu-style", .cpu, 2, false, false),
        ]
        for (style, tuning, seed, tiled, onlyProducts) in styles {
            var options = OpenCLBackendOptions.environment(environment)
            options.cacheDirectory = nil
            options.tuning = tuning
            let backend = try OpenCLBackend(device: .environment, options: options)
            if !tiled { backend.tunables.matmulTiled = false }
            XCTAssertTrue(backend.deviceInfo.isSimulator, "CANOPY_DEVICE should name the simulator, got \(backend.deviceDescription)")
            let only = environment["CANOPY_OCLGRIND_CALLS"].map { $0.split(separator: ",").map(String.init) }
            for call in Self.calls(seed: seed) where (only?.contains(where: call.name.contains) ?? true)
                && (!onlyProducts || call.name.hasPrefix("matmul")) {
                print("oclgrind-call: \(style) \(call.name)")
                fflush(nil)
                do {
                    try compareKernel(call, on: backend, and: cpu, quiet: true)
                } catch {
                    XCTFail("\(style) \(call.name): \(error)")
                }
            }
        }
    }

    /// The standard calls (awkward sizes 1, 7, 33, 129) with the 100,003-element sums made 9,001 elements
    /// (still several work-groups and the final pass with either family's tunables, at a tenth of the
    /// interpreting), plus the extra calls of the other-tuning parity test (row teams, transposed products).
    static func calls(seed: UInt64) -> [KernelCall] {
        let large: Set<String> = [KernelCalls.sum(count: 100_003, squares: false, seed: seed).name,
                                  KernelCalls.sum(count: 100_003, squares: true, seed: seed).name]
        return KernelCalls.standard(seed: seed).filter { !large.contains($0.name) } + [
            KernelCalls.sum(count: 9001, squares: false, seed: seed),
            KernelCalls.sum(count: 9001, squares: true, seed: seed),
            KernelCalls.matmul(m: 33, n: 17, k: 9, transposeB: true, alpha: 2, beta: -1, seed: seed + 1),
            KernelCalls.matmul(m: 40, n: 36, k: 20, transposeA: true, transposeB: true, seed: seed + 1),
            KernelCalls.softmax(rows: 5, cols: 300, log: true, seed: seed + 1),
            KernelCalls.softmaxCrossEntropy(rows: 70, classes: 40, seed: seed + 1),
            KernelCalls.biasGradient(outer: 2, channels: 3, inner: 100, seed: seed + 1),
        ]
    }

    /// Runs Scripts/oclgrind-check (without building: this process is the build) when oclgrind is installed,
    /// unless `CANOPY_OCLGRIND_CHECK=off` (it takes two to three minutes).
    func testEveryKernelIsCleanUnderOclgrind() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment[Self.workloadVariable] == nil else { throw XCTSkip("already inside oclgrind") }
        if environment["CANOPY_OCLGRIND_CHECK"] == "off" {
            print("skipping: CANOPY_OCLGRIND_CHECK=off")
            throw XCTSkip("CANOPY_OCLGRIND_CHECK=off")
        }
        guard executableOnPath("oclgrind", environment: environment) != nil else {
            print("skipping: oclgrind is not installed (Scripts/install-dependencies installs it)")
            throw XCTSkip("oclgrind is not installed (Scripts/install-dependencies installs it)")
        }
        let process = Process()
        process.executableURL = Self.repositoryRoot.appendingPathComponent("Scripts/oclgrind-check")
        process.arguments = ["--skip-build", "--test-binary", CommandLine.arguments[0]]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let started = Date()
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print(output)
        print("oclgrind check: \(String(format: "%.0f", Date().timeIntervalSince(started))) s")
        XCTAssertEqual(process.terminationStatus, 0, "Scripts/oclgrind-check failed:\n\(output.suffix(4000))")
    }
}
