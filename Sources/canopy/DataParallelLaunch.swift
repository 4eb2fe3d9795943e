import ArgumentParser
import Canopy
import CanopyTrain
import Foundation
#if MPI
import CanopyMPI
#endif

/// How `canopy train` joins a data-parallel run: started by `mpirun` from a build with the MPI trait, it trains
/// as one of the processes mpirun started; otherwise alone.
enum DataParallelLaunch {
    /// The processes this one trains with: those `mpirun` started (Open MPI is initialised only then, in the MPI
    /// build), or this process alone.
    ///
    /// - Throws: when `mpirun` started several processes but this `canopy` was built without the MPI trait (each
    ///   would train alone, into the same run folder), or when Open MPI cannot start.
    static func join(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProcessGroup {
        #if MPI
        if MPILaunch.launchedByMPIRun(environment: environment) {
            shareCores(environment: environment)
            if let group = try MPIProcessGroup.startIfLaunchedByMPIRun(environment: environment) { return group }
        }
        #else
        if let size = MPILaunch.worldSize(environment: environment), size > 1 { throw MPIMissing(processes: size) }
        #endif
        return LocalProcessGroup()
    }

    /// `mpirun` started a `canopy` built without the MPI trait.
    struct MPIMissing: Error, CustomStringConvertible {
        var processes: Int
        var description: String {
            "mpirun started \(processes) processes, but this canopy was built without the MPI trait; build it with "
                + "`swift build -c release --traits MPI` (README, \"Data-parallel training (Open MPI)\")"
        }
    }

    /// Gives each of the processes mpirun started on this machine its share of the cores for the cpu backend's
    /// threads (`CANOPY_CPU_THREADS`, unless set), so that they do not contend for the same cores.
    static func shareCores(environment: [String: String]) {
        guard environment["CANOPY_CPU_THREADS"] == nil,
              let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init), local > 1 else { return }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        setenv("CANOPY_CPU_THREADS", String(max(1, cores / local)), 1)
    }

    /// Ends this process's part in the group after a successful run (Open MPI's finalisation, which waits for every
    /// process). A failed process exits non-zero without it, so that `mpirun` ends the others instead of leaving
    /// them waiting in a collective.
    static func finish(_ group: ProcessGroup) throws {
        #if MPI
        try (group as? MPIProcessGroup)?.shutdown()
        #endif
    }

    /// Sends everything a process other than rank 0 prints to standard output nowhere: only rank 0 prints (errors
    /// still reach standard error).
    static func silenceStandardOutput(of group: ProcessGroup) {
        guard !group.isRoot else { return }
        fflush(nil)   // every stream, so nothing printed before goes to /dev/null later
        let null = open("/dev/null", O_WRONLY)
        guard null >= 0 else { return }
        dup2(null, STDOUT_FILENO)
        close(null)
    }

    /// Opens the backend every process trains on: rank 0 chooses (`auto` measures one process's share of a
    /// step) and says why; the others open the same kind, so every process runs the same kernels and their
    /// parameters stay equal bit for bit.
    static func openBackend(_ options: BackendOptions, plan: RunPlan, group: ProcessGroup) throws -> SelectedBackend {
        guard group.size > 1 else { return try options.open(forTraining: plan) }
        let chosen = group.isRoot ? try options.open(forTraining: plan) : nil
        let name = try group.broadcast(Array((chosen?.backend.name ?? "").utf8), from: 0)
        if let chosen { return chosen }
        guard let choice = BackendChoice(rawValue: String(decoding: name, as: UTF8.self)) else {
            throw ValidationError("rank 0 chose backend '\(String(decoding: name, as: UTF8.self))', which this process cannot open")
        }
        return try choice.open(device: options.device)
    }
}
