import CanopyTestSupport
import Foundation
import XCTest

/// The MPI build's binaries and `mpirun`, for tests that run Canopy's processes under Open MPI.
///
/// The binaries come from `CANOPY_MPI_BUILD` (Scripts/test builds `swift build --traits MPI --scratch-path
/// .build-mpi` and sets it), else from `.build-mpi/debug` in the package when an earlier Scripts/test left one. With
/// neither, or without `mpirun`, the tests FAIL, saying to run Scripts/test: a run that does not exercise MPI must
/// not pass.
struct MPIRun {
    /// The directory holding the MPI build's `canopy` and `canopy-mpi-probe`.
    let binaries: URL
    /// `mpirun`'s path.
    let mpirun: String

    /// The package's root directory (this file is Tests/CanopyMPITests/MPIRun.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Finds the MPI build and `mpirun`, or records a failure saying how to get them and returns `nil`.
    static func find(file: StaticString = #filePath, line: UInt = #line) -> MPIRun? {
        let environment = ProcessInfo.processInfo.environment
        let candidates: [String?] = [environment["CANOPY_MPI_BUILD"],
                                     packageRoot.appendingPathComponent(".build-mpi/debug").path]
        let probe = "canopy-mpi-probe"
        guard let directory = candidates.compactMap({ $0 }).first(where: {
            FileManager.default.isExecutableFile(atPath: URL(fileURLWithPath: $0).appendingPathComponent(probe).path)
        }) else {
            XCTFail("no MPI build: CANOPY_MPI_BUILD is \(environment["CANOPY_MPI_BUILD"] ?? "unset") and "
                    + ".build-mpi/debug has no \(probe); run Scripts/test (it builds `swift build --traits MPI "
                    + "--scratch-path .build-mpi` and sets CANOPY_MPI_BUILD)", file: file, line: line)
            return nil
        }
        guard let mpirun = executableOnPath("mpirun", environment: environment) else {
            XCTFail("no mpirun on PATH: run Scripts/install-dependencies (it installs openmpi-bin)", file: file, line: line)
            return nil
        }
        return MPIRun(binaries: URL(fileURLWithPath: directory), mpirun: mpirun)
    }

    /// The path of the MPI build's `name` executable.
    func binary(_ name: String) -> String { binaries.appendingPathComponent(name).path }

    /// Whether this process runs as root (Open MPI refuses root unless told).
    static var isRoot: Bool { getuid() == 0 }

    /// `mpirun`'s options every test uses: `ranks` processes on this machine's cores whatever their count, not
    /// bound to cores; root allowed where the tests run as root (CI); no single-copy (CMA) shared memory, which
    /// containers often forbid (`process_vm_readv`).
    static func options(ranks: Int) -> [String] {
        ["-np", "\(ranks)", "--oversubscribe", "--bind-to", "none", "--mca", "btl_vader_single_copy_mechanism", "none"]
            + (isRoot ? ["--allow-run-as-root"] : [])
    }

    /// The environment for `mpirun` and what it starts: this process's, plus root's permission for the daemons
    /// `orted` that a multi-host launch starts through the rsh agent.
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if isRoot {
            environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
            environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        }
        return environment
    }
}

/// Runs `program` with `arguments` to its end, with `MPIRun`'s environment by default, or kills it after `timeout`
/// seconds, so that a hung collective fails the test instead of blocking the suite.
func runWithTimeout(_ program: String, _ arguments: [String], environment: [String: String] = MPIRun.environment,
                    timeout: TimeInterval) throws -> BoundedRun {
    try runProcess(URL(fileURLWithPath: program), arguments, environment: environment, timeout: timeout)
}
