#if MPI
import CMPI

/// An MPI call that failed, or a collective the group could not run.
public enum MPIError: Error, CustomStringConvertible {
    /// `operation` (an MPI function's name) returned error `code`, which Open MPI describes as `message`.
    case call(operation: String, code: Int32, message: String)
    /// `MPI_Init_thread` gave a thread level below `MPI_THREAD_FUNNELED`, which the communication thread needs.
    case threadSupport(provided: Int32)
    /// A count does not fit MPI's 32-bit `int` counts.
    case countTooLarge(operation: String, count: Int)
    /// `operation` was called on a group after its ``MPIProcessGroup/shutdown()``.
    case shutDown(operation: String)
    /// A second group was made in one process (MPI can be initialised once per process).
    case alreadyInitialized

    public var description: String {
        switch self {
        case let .call(operation, code, message): "\(operation) failed (MPI error \(code)): \(message)"
        case let .threadSupport(provided):
            "MPI_Init_thread provided thread level \(provided), below MPI_THREAD_FUNNELED; Canopy makes every MPI "
                + "call on one communication thread and needs at least that"
        case let .countTooLarge(operation, count):
            "\(operation): \(count) elements do not fit MPI's 32-bit counts"
        case let .shutDown(operation): "\(operation) called after the MPI process group was shut down"
        case .alreadyInitialized: "MPI was already initialised in this process: make one MPIProcessGroup per process"
        }
    }
}

/// Throws ``MPIError/call(operation:code:message:)`` with Open MPI's text for `code` unless it is `MPI_SUCCESS`.
func check(_ code: Int32, _ operation: String) throws {
    guard code != cmpi_success() else { return }
    var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
    var length: Int32 = 0
    let message = MPI_Error_string(code, &text, &length) == cmpi_success()
        ? String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        : "no description"
    throw MPIError.call(operation: operation, code: code, message: message)
}

/// `count` as MPI's `int` count, or ``MPIError/countTooLarge(operation:count:)``.
func mpiCount(_ count: Int, _ operation: String) throws -> Int32 {
    guard let count32 = Int32(exactly: count) else { throw MPIError.countTooLarge(operation: operation, count: count) }
    return count32
}
#endif
