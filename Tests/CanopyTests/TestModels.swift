import Canopy
import Foundation
import XCTest

/// Model specs the integration tests train, written in Swift (the same types a model file loads into).
enum TestModels {
    /// The repository's Examples directory.
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Examples")

    /// A small dense model on the builtin digits with a digit, a parity and a regression task.
    static func digitsMLP(epochs: Int = 2, seed: UInt64 = 3, learningRate: Float = 0.003) -> ModelSpec {
        func layer(_ kind: LayerKind, _ path: String) -> LayerSpec { LayerSpec(kind: kind, keyPath: path) }
        return ModelSpec(
            name: "digits-test",
            data: DataSpec(source: .builtin("digits"), validation: 0.2, seed: 7),
            input: InputSpec(shape: [64], scale: 1.0 / 16),
            shared: [layer(.dense(units: 32), "shared[0]"), layer(.activation(.relu), "shared[1]"),
                     layer(.dropout(0.1), "shared[2]")],
            tasks: [
                TaskSpec(name: "digit", head: [layer(.dense(units: 10), "tasks.digit.head[0]")],
                         loss: .crossEntropy, metrics: [.accuracy, .macroF1]),
                TaskSpec(name: "parity", head: [layer(.dense(units: 2), "tasks.parity.head[0]")],
                         loss: .crossEntropy, metrics: [.accuracy, .auc], weight: 0.5),
                TaskSpec(name: "ink", head: [layer(.dense(units: 1), "tasks.ink.head[0]")],
                         loss: .mse, metrics: [.mse, .mae, .r2]),
            ],
            train: TrainSpec(optimizer: .adam(learningRate: learningRate), batchSize: 50, epochs: epochs, seed: seed))
    }

    /// The OpenCL backend, or nil (with the reason) when this machine has no OpenCL device.
    static func openCL() -> (backend: Backend?, reason: String) {
        do { return (try OpenCLBackend(), "") } catch { return (nil, "no OpenCL device: \(error)") }
    }
}

/// Two trainings of one model on two backends agree: every first-epoch loss (train and validation) within 1e-4
/// relative, and every last-epoch validation loss within 1e-3 (float rounding grows over the steps).
func assertBackendsAgree(_ cpu: [EpochReport], _ other: [EpochReport], file: StaticString = #filePath,
                         line: UInt = #line) {
    for (a, b) in zip(cpu.first!.train + cpu.first!.validation, other.first!.train + other.first!.validation) {
        print("epoch 1 \(a.task): cpu \(a.loss), other \(b.loss)")
        XCTAssertEqual(a.loss, b.loss, accuracy: 1e-4 * max(1, abs(a.loss)), "epoch 1 \(a.task)", file: file, line: line)
    }
    for (a, b) in zip(cpu.last!.validation, other.last!.validation) {
        XCTAssertEqual(a.loss, b.loss, accuracy: 1e-3 * max(1, abs(a.loss)), "last epoch \(a.task)", file: file, line: line)
    }
}

/// What running the `canopy` executable printed and how it exited.
struct CommandResult {
    var status: Int32, stdout: String, stderr: String
}

/// Runs the `canopy` executable built next to the tests, in `directory`; skips the test when it is not built.
/// `environment` adds to (or, with an empty value, removes from) the test process's environment.
func runCanopy(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> CommandResult {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("canopy")
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        throw XCTSkip("the canopy executable is not built next to the tests (\(executable.path))")
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = directory
    if !environment.isEmpty {
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value.isEmpty ? nil : value }
        process.environment = merged
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Outputs here are small (large ones go to files), so reading one pipe after the other cannot stall.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
}
