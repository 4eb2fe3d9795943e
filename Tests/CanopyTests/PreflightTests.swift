import Canopy
import Foundation
import XCTest

/// What `train` would refuse at start, `check` refuses with the same message; memory is planned from the data;
/// devices, flags and files get clear, placed errors.
final class PreflightTests: ScratchTestCase {
    /// A batch far larger than the data is planned at the data's size: check prints the plan, train trains.
    func testAHugeBatchIsClampedToTheRowsAndCheckPrintsTheMemoryPlan() throws {
        let model = try write(Self.smallModel(train: "optimizer: adam, batch_size: 1048576, epochs: 1"))
        let check = try canopy("check", model)
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("memory: parameters"), check.stdout)
        XCTAssertTrue(check.stdout.contains("at 1438 rows per step"), check.stdout)
        let train = try canopy("train", model, "--backend", "cpu", "--out", path("run"))
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stdout.contains("1 epoch of 1 steps"), train.stdout)
    }

    /// A plan larger than the device is refused up front, with the numbers, by check and by train alike.
    func testAPlanLargerThanTheDeviceIsRefusedWithTheNumbers() throws {
        let text = Self.smallModel(train: "optimizer: adam, batch_size: 64, epochs: 1")
            .replacingOccurrences(of: "shared: [{dense: 16}, relu]", with: "shared: [{dense: 45000}, {dense: 45000}]")
        let model = try write(text)
        let check = try canopy("check", model)
        assertRefused(check, "model.yaml:", "train.batch_size", "the run needs", "GiB", "physical memory")
        let train = try canopy("train", model, "--backend", "cpu", "--out", path("run"))
        assertRefused(train, "the run needs", "physical memory")
        XCTAssertEqual(check.stderr, train.stderr)

        // On an OpenCL device, one buffer beyond CL_DEVICE_MAX_MEM_ALLOC_SIZE is refused too.
        let (device, reason) = TestModels.openCL()
        guard let device = device as? MemoryLimitedBackend else { throw XCTSkip(reason) }
        let units = device.memoryLimits.largestBufferBytes / 4 / 1_048_576 + 1
        let spec = try ModelFile.parse(Self.smallModel(train: "optimizer: {sgd: {lr: 0.1}}, batch_size: 8, epochs: 1")
            .replacingOccurrences(of: "shared: [{dense: 16}, relu]", with: "shared: [{dense: 1048576}, {dense: \(units)}]"),
                                       fileName: "big.yaml", baseDirectory: nil)
        XCTAssertThrowsError(try Trainer(spec: spec, backend: device)) { error in
            XCTAssertTrue("\(error)".contains("CL_DEVICE_MAX_MEM_ALLOC_SIZE") || "\(error)".contains("CL_DEVICE_GLOBAL_MEM_SIZE"),
                          "\(error)")
        }
    }

    /// Every start-up refusal of train is check's too, with the same message.
    func testCheckRefusesWhatTrainRefuses() throws {
        try "a,b,c,label\n1,2,3,0\n4,5,6,1\n7,8,9,0\n1,1,1,1\n".write(to: scratch.appendingPathComponent("d.csv"),
                                                                      atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("folder.safetensors"),
                                                withIntermediateDirectories: true)
        let csvTask = "tasks:\n  t: {head: [{dense: 2}], loss: cross_entropy, label: label}\n"
        func csvModel(shape: String, label: String = "label", extra: String = "") -> String {
            "name: m\ndata: {source: d.csv, validation: 0.25}\ninput: {shape: [\(shape)]}\n"
                + csvTask.replacingOccurrences(of: "label: label", with: "label: \(label)")
                + "train: {optimizer: adam, batch_size: 2, epochs: 1}\n" + extra
        }
        let cases: [(text: String, expected: String)] = [
            (csvModel(shape: "2"), "input.shape"),
            (csvModel(shape: "3", label: "nope"), "nope"),
            (csvModel(shape: "3").replacingOccurrences(of: "d.csv", with: "missing.csv"), "missing.csv"),
            (csvModel(shape: "3", extra: "init_from: absent.safetensors\n"), "init_from"),
            (csvModel(shape: "3", extra: "init_from: folder.safetensors\n"), "init_from"),
            (Self.smallModel(data: "{source: builtin:synthetic-mmoe, options: {rows: 10000000000}}",
                             input: "{shape: [100]}"), "rows"),
            (Self.smallModel(train: "optimizer: adam, batch_size: 8, epochs: 1, weighting: mgda")
                .replacingOccurrences(of: "shared: [{dense: 16}, relu]",
                                      with: "cross_stitch: {column: [{dense: 8}, relu], units_after: [1]}"),
             "train.weighting: mgda needs a representation all tasks share"),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            let model = try write(text, to: "case\(index).yaml")
            let check = try canopy("check", model)
            let train = try canopy("train", model, "--backend", "cpu", "--out", path("run\(index)"))
            assertRefused(check, expected)
            assertRefused(train, expected)
            XCTAssertEqual(check.stderr, train.stderr, "case \(index)")
        }
    }

    /// init_from loads only an exact fit unless it says strict: false; either way it says what it did.
    func testInitFromIsStrictUnlessToldAndReportsWhatItLoaded() throws {
        let source = try write(Self.smallModel(train: "optimizer: adam, batch_size: 64, epochs: 1"), to: "source.yaml")
        XCTAssertEqual(try canopy("train", source, "--backend", "cpu", "--out", path("source")).status, 0)
        let other = Self.smallModel(name: "target", train: "optimizer: adam, batch_size: 64, epochs: 1")
            .replacingOccurrences(of: "{head: [{dense: 10}]", with: "{head: [{dense: 8}, relu, {dense: 10}]")
        let strict = try write(other + "init_from: source/parameters.safetensors\nfreeze: shared\n", to: "strict.yaml")
        assertRefused(try canopy("check", strict), "init_from", "does not fit the model", "strict: false")
        let loose = try write(other + "init_from: {path: source/parameters.safetensors, strict: false}\nfreeze: shared\n",
                              to: "loose.yaml")
        let trained = try canopy("train", loose, "--backend", "cpu", "--out", path("target"))
        XCTAssertEqual(trained.status, 0, trained.stderr)
        for expected in ["init_from", "loaded 4 parameters", "kept their initial values (not in the file): tasks.digit.head.2",
                         "skipped, shape differs", "frozen: shared.0.weight, shared.0.bias"] {
            XCTAssertTrue(trained.stdout.contains(expected), "'\(expected)' not in:\n\(trained.stdout)")
        }
    }

    /// A device asked for that is not there is an error, from the flag or the environment; cpu takes no device.
    func testADeviceAskedForAndMissingIsAnError() throws {
        let model = try write(Self.smallModel())
        assertRefused(try canopy("train", model, "--out", path("a"), environment: ["CANOPY_DEVICE": "nvidia-xyz"]),
                      "nvidia-xyz", "CANOPY_DEVICE")
        assertRefused(try canopy("train", model, "--backend", "cpu", "--device", "gpu", "--out", path("b")),
                      "the cpu backend has none")
        XCTAssertThrowsError(try BackendChoice.auto.open(environment: ["CANOPY_DEVICE": "no-such-device-xyz"]))
        XCTAssertEqual(try BackendChoice.cpu.open(environment: ["CANOPY_DEVICE": "gpu"]).backend.name, "cpu",
                       "the environment names an OpenCL device; the cpu backend ignores it")
    }

    /// Flag values, names and files: each message says which value or file, its role and what is wrong.
    func testFlagsNamesAndFilesGetClearMessages() throws {
        let model = try write(Self.smallModel())
        for (flag, value, expected) in [("--epochs", "-1", "--epochs must be a whole number of at least 1, got -1"),
                                        ("--seed", "-1", "--seed must be a whole number from 0"),
                                        ("--device", "-1", "--device takes a device index of 0 or more")] {
            let result = try canopy("train", model, flag, value)
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains(expected), result.stderr)
            XCTAssertFalse(result.stderr.contains("Missing value"), result.stderr)
        }
        assertRefused(try canopy("train", model, "--backend", "cpu", "--out", ""), "output folder ''", "empty")
        try Data().write(to: scratch.appendingPathComponent("a-file"))
        assertRefused(try canopy("train", model, "--backend", "cpu", "--out", path("a-file") + "/sub"),
                      "is a file, not a folder")
        assertRefused(try canopy("check", "/dev/null"), "model file /dev/null", "is a character device, not a model file")
        assertRefused(try canopy("check", scratch.path), "is a directory, not a model file")
        assertRefused(try canopy("evaluate", model, "--backend", "cpu", "--checkpoint", scratch.path),
                      scratch.lastPathComponent, "cannot read the checkpoint", "is a directory")
        assertRefused(try canopy("predict", model, "--backend", "cpu", "--checkpoint", "/dev/null"),
                      "/dev/null: cannot read the checkpoint", "character device")

        let escaping = try write(Self.smallModel(name: "../../x"), to: "escape.yaml")
        assertRefused(try canopy("check", escaping), "escape.yaml:1:", "name:", "plain file name")
        let long = try write(Self.smallModel(name: String(repeating: "n", count: 10_000)), to: "long.yaml")
        assertRefused(try canopy("check", long), "long.yaml:1:", "10000 bytes long")
        let key = try write(Self.smallModel() + "\n" + String(repeating: "k", count: 2_000) + ": 1\n", to: "key.yaml")
        let keyed = try canopy("check", key)
        assertRefused(keyed, "key.yaml:10:1:", "more than 1024 characters")
        XCTAssertLessThan(keyed.stderr.count, 600, keyed.stderr)
    }

    /// Parameters that are NaN or infinite are refused by evaluate and predict, naming the file.
    func testNonFiniteParametersAreRefused() throws {
        let model = try write(Self.smallModel(train: "optimizer: adam, batch_size: 64, epochs: 1"))
        XCTAssertEqual(try canopy("train", model, "--backend", "cpu", "--out", path("run")).status, 0)
        var file = try SafeTensorsFile.read(from: URL(fileURLWithPath: path("run") + "/parameters.safetensors"))
        file.tensors[0].values[3] = .nan
        try file.write(to: URL(fileURLWithPath: path("bad.safetensors")))
        for command in ["evaluate", "predict"] {
            assertRefused(try canopy(command, model, "--backend", "cpu", "--checkpoint", path("bad.safetensors")),
                          "bad.safetensors", "NaN or infinite")
        }
    }
}
