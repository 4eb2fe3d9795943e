import Canopy
import Foundation
#if MPI
import CanopyMPI
#endif

/// The process group a `canopy` process trains in: the processes `mpirun` started, in the build with the `MPI`
/// trait, else this process alone.
enum ProcessGroupLaunch {
    /// Joins the MPI job when `mpirun` started this process (the MPI build), else returns the one-process group.
    /// A build without the MPI trait started by `mpirun` with more than one process throws: each process would
    /// train alone, on the same run folder.
    static func join(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProcessGroup {
        #if MPI
        if let group = try MPIProcessGroup.startIfLaunchedByMPIRun(environment: environment) { return group }
        #else
        if let size = MPILaunch.worldSize(environment: environment), size > 1 {
            throw MPIMissing(processes: size)
        }
        #endif
        return LocalProcessGroup()
    }

    /// Ends `group` after a successful run: finalises MPI (on every process) for an MPI group, nothing otherwise.
    /// After a failure, exit non-zero without calling it; `mpirun` then ends the other processes.
    static func finish(_ group: ProcessGroup) throws {
        #if MPI
        try (group as? MPIProcessGroup)?.shutdown()
        #endif
    }

    /// `mpirun` started a `canopy` built without the MPI trait.
    struct MPIMissing: Error, CustomStringConvertible {
        var processes: Int
        var description: String {
            "mpirun started \(processes) processes, but this canopy was built without the MPI trait; build it with "
                + "`swift build -c release --traits MPI` (README, \"Data-parallel training (Open MPI)\")"
        }
    }
}
