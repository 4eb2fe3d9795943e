#if MPI
import CanopyTrain
import Foundation

/// The one thread that makes every MPI call of a process group, running the jobs submitted to it one at a time in
/// submission order.
///
/// MPI is initialised with `MPI_THREAD_FUNNELED`: only the thread that called `MPI_Init_thread` may call MPI. This
/// thread is that thread (its first job initialises MPI, its last finalises it), so callers on any thread, the
/// trainer's included, submit work here instead of calling MPI. Running jobs strictly in order is what gives the
/// ``ProcessGroup`` contract its ordering: every process starts the same collectives in the same order, so the
/// order they run in here is the same on every process, and a started reduction can overlap with the caller's work.
final class CommunicationThread: @unchecked Sendable {
    // @unchecked Sendable: `jobs` and `accepting` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var accepting = true
    private var thread: Thread?

    /// A unit of work for the thread; `run` makes MPI calls and reports through `request`.
    struct Job: @unchecked Sendable {
        // @unchecked Sendable: the closure captures the caller's buffers, which the caller leaves untouched until
        // `request` finishes (the contract of `startAllreduceSum`); only this thread runs it.
        let run: () throws -> Void
        let request: MPIRequest
    }

    /// Starts the thread, which waits for jobs.
    init(name: String) {
        let thread = Thread { [self] in runJobs() }
        thread.name = name
        self.thread = thread
        thread.start()
    }

    /// Queues `work` behind every job submitted before it and returns the request that reports its end. After
    /// ``stop(finally:)`` the request fails at once with `MPIError.shutDown(operation)`.
    func submit(_ operation: String, _ work: @escaping () throws -> Void) -> MPIRequest {
        let request = MPIRequest()
        condition.lock()
        defer { condition.unlock() }
        guard accepting else {
            request.finish(MPIError.shutDown(operation: operation))
            return request
        }
        jobs.append(Job(run: work, request: request))
        condition.signal()
        return request
    }

    /// Runs `work` after every job submitted before it and waits for it; rethrows what it threw.
    func perform(_ operation: String, _ work: @escaping () throws -> Void) throws {
        try submit(operation, work).wait()
    }

    /// Queues `last` as the final job, refuses jobs submitted after it, and waits until the thread has run it and
    /// ended. Returns at once, doing nothing, when the thread is already stopped.
    func stop(finally last: @escaping () throws -> Void) throws {
        condition.lock()
        guard accepting else {
            condition.unlock()
            return
        }
        let request = MPIRequest()
        jobs.append(Job(run: last, request: request))
        accepting = false
        condition.signal()
        condition.unlock()
        try request.wait()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty && accepting { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            do {
                try job.run()
                job.request.finish(nil)
            } catch {
                job.request.finish(error)
            }
        }
    }
}

/// A job submitted to a ``CommunicationThread``: `wait()` blocks until it has run and rethrows its error.
final class MPIRequest: CollectiveRequest, @unchecked Sendable {
    // @unchecked Sendable: `finished` and `error` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var finished = false
    private var error: Error?

    func wait() throws {
        condition.lock()
        while !finished { condition.wait() }
        let error = self.error
        condition.unlock()
        if let error { throw error }
    }

    /// Records the job's outcome and wakes every waiter.
    func finish(_ error: Error?) {
        condition.lock()
        self.error = error
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}
#endif
