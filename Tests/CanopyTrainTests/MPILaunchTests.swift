import CanopyTrain
import XCTest

/// `mpirun` is recognised from the environment alone (Open MPI's and PMIx's variables), without MPI.
final class MPILaunchTests: XCTestCase {
    func testMPIRunIsRecognisedByOpenMPIsOrPMIxsVariables() {
        XCTAssertTrue(MPILaunch.launchedByMPIRun(environment: ["OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertTrue(MPILaunch.launchedByMPIRun(environment: ["PMIX_RANK": "0"]))
        XCTAssertFalse(MPILaunch.launchedByMPIRun(environment: ["PATH": "/usr/bin", "OMPI_MCA_btl": "tcp"]))
    }

    func testWorldSizeIsOpenMPIsProcessCount() {
        XCTAssertEqual(MPILaunch.worldSize(environment: ["OMPI_COMM_WORLD_SIZE": "3", "PMIX_RANK": "1"]), 3)
        XCTAssertNil(MPILaunch.worldSize(environment: ["PMIX_RANK": "1"]))
        XCTAssertNil(MPILaunch.worldSize(environment: ["OMPI_COMM_WORLD_SIZE": "two"]))
    }
}
