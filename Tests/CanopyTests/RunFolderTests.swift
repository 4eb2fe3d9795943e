import Canopy
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The run folder: one writer, one ordered commit per epoch, nothing lost or mixed across kills, NaN stops,
/// full disks and resumes.
final class RunFolderTests: ScratchTestCase {
    /// A loss that diverges in epoch 2 (a resume with a huge learning rate) leaves both files at epoch 1.
    func testANaNStopKeepsTheLastGoodEpochInBothFiles() throws {
        let model = try write(Self.smallModel(train: "optimizer: {sgd: {lr: 0.05}}, batch_size: 64, epochs: 1, seed: 1"))
        let run = path("run")
        XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--out", run).status, 0)
        let good = try SafeTensorsFile.read(from: URL(fileURLWithPath: run + "/parameters.safetensors"))

        try write(Self.smallModel(train: "optimizer: {sgd: {lr: 1.0e+12}}, batch_size: 64, epochs: 1, seed: 1"))
        let diverged = try canopy("train", model, "--backend", "cpu", "--resume", run, "--epochs", "2")
        XCTAssertEqual(diverged.status, 1, diverged.stdout + diverged.stderr)
        XCTAssertTrue(diverged.stdout.contains("warning: resuming with a changed learning rate"), diverged.stdout)
        XCTAssertTrue(diverged.stderr.contains("loss became"), diverged.stderr)
        XCTAssertTrue(diverged.stdout.contains("kept the files of epoch 1"), diverged.stdout)
        let parameters = try SafeTensorsFile.read(from: URL(fileURLWithPath: run + "/parameters.safetensors"))
        let checkpoint = try TrainingCheckpoint.read(from: URL(fileURLWithPath: run + "/checkpoint.safetensors"))
        XCTAssertEqual(parameters.metadata["epoch"], "1")
        XCTAssertEqual(checkpoint.metadata["epoch"], "1")
        XCTAssertEqual(parameters.tensors.map(\.values), good.tensors.map(\.values))
        XCTAssertEqual(checkpoint.parameters.map(\.values), good.tensors.map(\.values))
        XCTAssertEqual(Set(try metricsLines(run).map { $0["epoch"] as? Int }), [1])
    }

    /// A log ahead of its checkpoint (a kill between them), ending in half a line, is put right on resume: every
    /// epoch appears once and every line parses; a log missing the checkpoint's epoch gets it back.
    func testResumeRepairsTheLogAndRemovesStaleTemporaries() throws {
        let model = try write(Self.smallModel())
        let run = path("run")
        XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--out", run).status, 0)
        let log = URL(fileURLWithPath: run + "/metrics.jsonl")
        let complete = try String(contentsOf: log, encoding: .utf8)
        // An epoch-3 line that a later checkpoint never committed, then half a line.
        try (complete + "{\"epoch\":3,\"split\":\"train\",\"task\":\"digit\",\"loss\":1}\n{\"epoch\":3,\"spl")
            .write(to: log, atomically: true, encoding: .utf8)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: run + "/.checkpoint.safetensors.tmp-4242-1"))

        let resumed = try canopy("train", model, "--backend", "cpu", "--resume", run, "--epochs", "3")
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let epochs = try metricsLines(run).filter { $0["task"] as? String == "digit" && $0["split"] as? String == "train" }
            .map { $0["epoch"] as? Int }
        XCTAssertEqual(epochs, [1, 2, 3])
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/.checkpoint.safetensors.tmp-4242-1"))

        // A kill after the checkpoint but before the log: epoch 3's lines come back from the checkpoint.
        let withoutThird = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("{\"epoch\":3,") }.joined(separator: "\n") + "\n"
        try withoutThird.write(to: log, atomically: true, encoding: .utf8)
        XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--resume", run, "--epochs", "4").status, 0)
        let all = try metricsLines(run).filter { $0["task"] as? String == "digit" && $0["split"] as? String == "train" }
        XCTAssertEqual(all.map { $0["epoch"] as? Int }, [1, 2, 3, 4])
    }

    /// A write that fails part-way (the file-size limit standing in for a full disk) leaves no half line.
    func testAFailedAppendLeavesNoPartialRecord() throws {
        let url = scratch.appendingPathComponent("metrics.jsonl")
        let log = try MetricsLog(url: url)
        try log.append(epoch: 1, split: "train", task: "t", loss: 1, metrics: [])
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        var old = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var limited = old
        limited.rlim_cur = rlim_t(size + 20)
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limited)
        defer {
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
            signal(SIGXFSZ, previousHandler)
        }
        XCTAssertThrowsError(try log.append(epoch: 2, split: "train", task: "t", loss: 2,
                                            metrics: [("accuracy", 0.5)], extra: ["step": 10])) { error in
            XCTAssertTrue("\(error)".contains("cannot write the metrics log"), "\(error)")
        }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(text.utf8.count, size, "the half-written line must be cut off")
        XCTAssertTrue(text.hasSuffix("\n"))
    }

    /// A disk that fills up during an epoch's commit leaves both files and the log at the last good epoch.
    func testAFullDiskKeepsTheLastGoodEpochWhole() throws {
        let disk = path("full")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mount = try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=300k", "tmpfs", disk])
        guard mount == 0 else { throw XCTSkip("cannot mount a small tmpfs here (not root?) to fill up") }
        defer { _ = try? runTool("/bin/umount", [disk]) }
        let model = try write(Self.smallModel(train: "optimizer: adam, batch_size: 64, epochs: 5, seed: 1")
            .replacingOccurrences(of: "shared: [{dense: 16}, relu]", with: "shared: [{dense: 200}, relu]"))
        let result = try canopy("train", model, "--backend", "cpu", "--out", disk + "/run")
        assertRefused(result, "No space left on device")
        let epoch = try XCTUnwrap(try metricsLines(disk + "/run").last?["epoch"] as? Int)
        XCTAssertTrue(result.stdout.contains("kept the files of epoch \(epoch), the last good one"), result.stdout)
        let parameters = try SafeTensorsFile.read(from: URL(fileURLWithPath: disk + "/run/parameters.safetensors"))
        let checkpoint = try TrainingCheckpoint.read(from: URL(fileURLWithPath: disk + "/run/checkpoint.safetensors"))
        XCTAssertEqual(parameters.metadata["epoch"], String(epoch))
        XCTAssertEqual(checkpoint.metadata["epoch"], String(epoch))
        XCTAssertEqual(parameters.tensors.map(\.values), checkpoint.parameters.map(\.values))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk + "/run").filter { $0.contains(".tmp-") }, [])
    }

    private func runTool(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Only one process writes a folder; a second is refused while the first holds it, and may go once it is gone.
    func testASecondWriterIsRefused() throws {
        var first: RunFolder? = try RunFolder(path: path("locked"), start: .new)
        XCTAssertThrowsError(try RunFolder(path: path("locked"), start: .new)) { error in
            XCTAssertTrue("\(error)".contains("another canopy run is writing this folder"), "\(error)")
            XCTAssertTrue("\(error)".contains("process \(getpid())"), "\(error)")
        }
        let model = try write(Self.smallModel())
        let busy = try canopy("train", model, "--backend", "cpu", "--out", path("locked"))
        assertRefused(busy, "another canopy run is writing this folder")
        XCTAssertNotNil(first)
        first = nil
        _ = try RunFolder(path: path("locked"), start: .new)
    }

    /// A folder that holds a run is refused without --resume or --overwrite; --overwrite replaces it whole.
    func testStartingOverIsExplicitAndNeverMixesRuns() throws {
        let model = try write(Self.smallModel(train: "optimizer: {adam: {lr: 0.01}}, batch_size: 64, epochs: 1, seed: 1"))
        let run = path("run")
        XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--out", run).status, 0)
        let before = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        assertRefused(try canopy("train", model, "--backend", "cpu", "--out", run), "already holds a run", "--overwrite")
        XCTAssertEqual(try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8), before, "a refusal changes nothing")

        let again = try canopy("train", model, "--backend", "cpu", "--out", run, "--overwrite", "--seed", "9")
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try metricsLines(run).filter { $0["task"] != nil }.count, 4, "one epoch × two splits × two tasks")
        let checkpoint = try TrainingCheckpoint.read(from: URL(fileURLWithPath: run + "/checkpoint.safetensors"))
        XCTAssertEqual(checkpoint.metadata["seed"], "9")
    }

    /// `--resume` refuses what would train nothing or continue a different run, and keeps the schedule's horizon.
    func testResumeRefusesNothingToTrainAndAChangedSetup() throws {
        let model = try write(Self.smallModel())
        let run = path("run")
        XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--out", run).status, 0)
        assertRefused(try canopy("train", model, "--backend", "cpu", "--resume", run), "already has 2 epochs")
        try write(Self.smallModel(train: "optimizer: {adam: {lr: 0.01}}, batch_size: 32, epochs: 3, seed: 1"))
        assertRefused(try canopy("train", model, "--backend", "cpu", "--resume", run), "batch_size was 64, now 32")
        try write(Self.smallModel(data: "{source: builtin:digits, validation: 0.3, seed: 7}",
                                  train: "optimizer: {adam: {lr: 0.01}}, batch_size: 64, epochs: 3, seed: 1"))
        assertRefused(try canopy("train", model, "--backend", "cpu", "--resume", run), "data was builtin:digits, validation 0.2")
        assertRefused(try canopy("train", model, "--backend", "cpu", "--resume", path("nothing-here")),
                      "has no checkpoint.safetensors")
    }

    /// The cosine schedule spans the run's train.epochs: two epochs, then a resume to four, is one four-epoch run
    /// bit for bit.
    func testAResumedRunFollowsTheSameScheduleAsAnUninterruptedOne() throws {
        let model = try write(Self.smallModel(train: "optimizer: {adam: {lr: 0.01}}, batch_size: 64, epochs: 4, seed: 1, "
                                               + "schedule: {cosine: {min_lr: 0.0001}}, clip_norm: 1.0"))
        XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--out", path("whole")).status, 0)
        XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--out", path("split"), "--epochs", "2").status, 0)
        XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--resume", path("split")).status, 0)
        let whole = try SafeTensorsFile.read(from: URL(fileURLWithPath: path("whole") + "/parameters.safetensors"))
        let split = try SafeTensorsFile.read(from: URL(fileURLWithPath: path("split") + "/parameters.safetensors"))
        XCTAssertEqual(whole.tensors.map(\.values), split.tensors.map(\.values))
        let rates = { (run: String) in try self.metricsLines(run).compactMap { $0["learning_rate"] as? Double } }
        XCTAssertEqual(try rates(path("whole")), try rates(path("split")))
    }
}

/// Kills at random moments, then resumes: the run ends exactly as an uninterrupted one, with a log that has every
/// epoch once and no leftovers.
final class KilledRunTests: ScratchTestCase {
    func testKillsAtRandomMomentsLoseNothing() throws {
        let model = try write(Self.smallModel(train: "optimizer: {adam: {lr: 0.01}}, batch_size: 16, epochs: 6, seed: 4, "
                                               + "schedule: {cosine: {min_lr: 0.001}}"))
        let clock = Date()
        XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--out", path("reference")).status, 0)
        let whole = Date().timeIntervalSince(clock)
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("canopy")
        var random = FuzzRandom(seed: UInt64(ProcessInfo.processInfo.environment["CANOPY_KILL_SEED"] ?? "") ?? 7)
        let run = path("killed")
        var kills = 0, finished = false
        // Eight starts killed at a random moment within half the time a whole run takes (so kills land in start-up,
        // in steps and in epoch commits alike), then one start that runs to the end.
        for attempt in 0..<9 where !finished {
            let started = FileManager.default.fileExists(atPath: run + "/checkpoint.safetensors")
            let process = Process()
            process.executableURL = executable
            process.arguments = ["train", model, "--backend", "cpu"]
                + (started ? ["--resume", run] : ["--out", run, "--overwrite"])
            process.currentDirectoryURL = scratch
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if attempt < 8 { Thread.sleep(forTimeInterval: whole * Double(random.below(500)) / 1000) }
            if attempt < 8, process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
            if process.terminationReason == .exit {
                XCTAssertEqual(process.terminationStatus, 0)
                finished = true
            }
        }
        print("killed run: \(kills) kills before it finished")
        XCTAssertTrue(finished, "the run never finished")
        XCTAssertGreaterThan(kills, 2, "too few runs were killed")
        let reference = try SafeTensorsFile.read(from: URL(fileURLWithPath: path("reference") + "/parameters.safetensors"))
        let killed = try SafeTensorsFile.read(from: URL(fileURLWithPath: run + "/parameters.safetensors"))
        XCTAssertEqual(killed.tensors.map(\.values), reference.tensors.map(\.values), "after \(kills) kills")
        let epochs = try metricsLines(run).filter { $0["task"] as? String == "digit" && $0["split"] as? String == "validation" }
            .map { $0["epoch"] as? Int }
        XCTAssertEqual(epochs, [1, 2, 3, 4, 5, 6], "after \(kills) kills")
        XCTAssertEqual(try metricsLines(run).count, try metricsLines(path("reference")).count)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }
}
