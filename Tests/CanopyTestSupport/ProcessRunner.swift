import Foundation

/// Runs a program to its end (looked up on `PATH` when `program` is not a path) and returns its exit status and
/// its standard output and error together: the Python checkers and other tools the interoperability tests call.
public func runProcess(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program.contains("/") ? program : "/usr/bin/env")
    process.arguments = program.contains("/") ? arguments : [program] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// How a program run by ``runProcess(_:_:environment:directory:timeout:)`` ended.
public struct BoundedRun: Sendable {
    /// Its exit status, or the number of the signal that ended it.
    public var status: Int32
    /// Whether a signal ended it (a crash, or the kill after its time ran out).
    public var signalled: Bool
    /// Whether it was killed for outliving its time.
    public var timedOut: Bool
    /// What it wrote to standard output and to standard error.
    public var stdout: String, stderr: String
    /// Both, standard output first.
    public var output: String { stdout + stderr }
}

/// Runs `executable` to its end, or ends it after `timeout` seconds (SIGTERM, then SIGKILL five seconds later),
/// so that a hung process fails a test instead of blocking the suite. Its output goes through files, so that a
/// chatty process never blocks on a pipe.
///
/// - Parameters:
///   - environment: its whole environment (this process's when nil).
///   - directory: its working directory (this process's when nil).
public func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                       directory: URL? = nil, timeout: TimeInterval) throws -> BoundedRun {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-run-\(UUID().uuidString)")
    let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    defer { try? out.close(); try? err.close() }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = directory }
    process.standardOutput = out
    process.standardError = err
    let ended = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in ended.signal() }
    try process.run()
    var timedOut = false
    if ended.wait(timeout: .now() + timeout) == .timedOut {
        timedOut = true
        process.terminate()
        if ended.wait(timeout: .now() + 5) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            ended.wait()
        }
    }
    return BoundedRun(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                      timedOut: timedOut, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
}

/// The path of the executable `name` in a folder of `PATH` (of `environment`), or nil when none has it.
public func executableOnPath(_ name: String,
                             environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
    (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { "\($0)/\(name)" }
        .first(where: FileManager.default.isExecutableFile)
}
