import CanopyTestSupport
import XCTest

/// `canopy-mpi-probe` under `mpirun` on this machine (Open MPI's shared-memory transport): every collective of
/// MPIProcessGroup, with bit-identical results on every rank.
final class SharedMemoryTests: XCTestCase {
    func testTwoRanksAgreeOnEveryCollective() throws {
        try checkProbe(ranks: 2)
    }

    /// Three ranks: the sums' summation order would depend on the rank (recursive doubling) if the group used
    /// MPI_Allreduce; the probe's values make that visible in the bits.
    func testThreeRanksAgreeBitForBit() throws {
        guard let output = try checkProbe(ranks: 3) else { return }
        for check in ["allreduce-float.1000003", "allreduce-double.1000003"] {
            XCTAssertGreaterThan(output.detailNumber("order-sensitive", of: check) ?? 0, 1000,
                                 "\(check): the probe's values should make sums depend on their order")
        }
    }

    /// Started without mpirun, the probe does not initialise MPI (the group's factory returns nil).
    func testWithoutMPIRunNothingInitialisesMPI() throws {
        guard let mpi = MPIRun.find() else { return }
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_COMM_WORLD_SIZE"] = nil
        environment["PMIX_RANK"] = nil
        let finished = try runWithTimeout(mpi.binary("canopy-mpi-probe"), [], environment: environment, timeout: 60)
        XCTAssertEqual(finished.status, 0, finished.output)
        XCTAssertEqual(ProbeOutput(finished.output).lines.map(\.value), ["false"], finished.output)
    }

    /// A rank that exits with a failure while the others wait in a barrier: mpirun ends the whole job, non-zero,
    /// instead of leaving the others blocked (MPIProcessGroup's documented behaviour when a peer dies).
    func testADeadRankEndsTheJob() throws {
        guard let mpi = MPIRun.find() else { return }
        let finished = try runWithTimeout(mpi.mpirun, MPIRun.options(ranks: 3) + [mpi.binary("canopy-mpi-probe"), "die"],
                               timeout: 120)
        XCTAssertFalse(finished.timedOut, "the surviving ranks hung:\n\(finished.output)")
        XCTAssertNotEqual(finished.status, 0, finished.output)
        XCTAssertFalse(finished.output.contains("check=survived-dead-peer"), finished.output)
    }

    /// The MPI build's canopy links libmpi (the trait reaches the executable).
    func testTheMPIBuildsCanopyLinksOpenMPI() throws {
        guard let mpi = MPIRun.find() else { return }
        let finished = try runWithTimeout("/usr/bin/ldd", [mpi.binary("canopy")], timeout: 60)
        XCTAssertEqual(finished.status, 0, finished.output)
        XCTAssertTrue(finished.output.contains("libmpi"), finished.output)
    }

    @discardableResult
    private func checkProbe(ranks: Int) throws -> ProbeOutput? {
        guard let mpi = MPIRun.find() else { return nil }
        let started = Date()
        let finished = try runWithTimeout(mpi.mpirun, MPIRun.options(ranks: ranks) + [mpi.binary("canopy-mpi-probe")],
                               timeout: 180)
        XCTAssertFalse(finished.timedOut, "mpirun -np \(ranks) hung:\n\(finished.output)")
        XCTAssertEqual(finished.status, 0, finished.output)
        let output = ProbeOutput(finished.output)
        output.assertAllChecksAgree(ranks: ranks, context: "mpirun -np \(ranks)")
        print("mpirun -np \(ranks): \(output.lines.count) probe lines in \(Date().timeIntervalSince(started)) s")
        return output
    }
}
