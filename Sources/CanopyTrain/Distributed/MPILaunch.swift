/// What a process can learn about an Open MPI launch from its environment alone, without initialising MPI: every
/// build can tell that `mpirun` started it, the builds without the `MPI` trait included.
public enum MPILaunch {
    /// Whether `mpirun` started this process: Open MPI sets `OMPI_COMM_WORLD_SIZE`, and PMIx `PMIX_RANK`, in every
    /// process it launches.
    public static func launchedByMPIRun(environment: [String: String]) -> Bool {
        environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    /// How many processes `mpirun` started (`OMPI_COMM_WORLD_SIZE`), or `nil` when it did not say.
    public static func worldSize(environment: [String: String]) -> Int? {
        environment["OMPI_COMM_WORLD_SIZE"].flatMap { Int($0) }
    }
}
