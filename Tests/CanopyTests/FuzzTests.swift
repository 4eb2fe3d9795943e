import Canopy
import CanopyTestSupport
import Foundation
import XCTest

/// Seeded, bounded fuzzing of everything Canopy reads from outside: model files, CSV data and checkpoints are
/// mutated (bytes flipped, cut, repeated; numbers swapped for extremes; keys and lines dropped) and fed to the
/// real executable. Whatever the mutation, `canopy` must exit 0 or exit 1 with an `error:` line naming the
/// damaged file, never die of a signal (a Swift runtime trap) or hang.
final class FuzzTests: ScratchTestCase {
    /// How many mutated files of each kind one run feeds through (≥ 200 in all).
    static let modelCases = 150, csvCases = 160, checkpointCases = 90
    /// A case that has not finished by then counts as a hang.
    static let caseTimeout: TimeInterval = 60

    func testMutatedInputsExitCleanlyNamingTheFile() throws {
        // CI runs one fixed seed; CANOPY_FUZZ_SEED explores others.
        let seed = ProcessInfo.processInfo.environment["CANOPY_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_201
        var random = FuzzRandom(seed: seed)
        var failures: [String] = []
        var exits: [String: Int] = [:]
        let started = Date()

        // Inputs to mutate: the example CSV (a few rows), a model reading it, and a checkpoint it wrote.
        let csvLines = try String(contentsOf: TestModels.examples.appendingPathComponent("data/digits-sample.csv"),
                                  encoding: .utf8).split(separator: "\n").prefix(41)
        let csv = csvLines.joined(separator: "\n") + "\n"
        try write(csv, to: "clean.csv")
        let model = """
            name: fuzz
            data: {source: DATA, validation: 0.25, seed: 3}
            input: {shape: [64], scale: 0.0625}
            shared: [{dense: 8}, relu]
            tasks:
              digit: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy, macro_f1]}
              parity: {head: [{dense: 1}], loss: binary_cross_entropy, metrics: [auc]}
            train: {optimizer: {adam: {lr: 0.01}}, batch_size: 8, epochs: 1, seed: 1, clip_norm: 5, early_stopping: {monitor: digit.accuracy, patience: 2}}
            """
        let cleanModel = try write(model.replacingOccurrences(of: "DATA", with: "clean.csv"), to: "clean.yaml")
        let trained = try canopy("train", cleanModel, "--backend", "cpu", "--out", path("clean-run"))
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let checkpoint = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("clean-run") + "/checkpoint.safetensors")))

        func run(_ arguments: [String], damaged name: String, what: String) throws {
            let result = try runCanopyBounded(arguments, in: scratch, timeout: Self.caseTimeout)
            let lines = result.stderr.split(separator: "\n")
            let errorLines = lines.filter { $0.hasPrefix("error: ") || $0.hasPrefix("Error: ") }
            exits["\(what.split(separator: " ")[0]) exit \(result.status)", default: 0] += 1
            if ProcessInfo.processInfo.environment["CANOPY_FUZZ_VERBOSE"] != nil { print(what, result.status, errorLines.first ?? "") }
            if result.timedOut {
                failures.append("\(what): no answer after \(Int(Self.caseTimeout)) s")
            } else if result.signalled || result.status != 0 && result.status != 1 {
                failures.append("\(what): \(result.signalled ? "killed by signal" : "exit status") \(result.status)\n\(result.stderr.prefix(400))")
            } else if result.status == 1 && !errorLines.contains(where: { $0.contains(name) }) {
                failures.append("\(what): the error does not name \(name): \(result.stderr.prefix(400))")
            }
        }

        // Model files: this one, one with the newer layers, losses and options, and the examples of every sharing
        // scheme (their data is built in).
        let newer = """
            name: fuzz-new
            data: {source: clean.csv, validation: 0.25, seed: 3}
            input: {shape: [1, 8, 8], normalize: standard}
            shared: [{conv2d: {filters: 4, kernel: 3, padding: 1}}, silu, {avgpool: 2}, {leaky_relu: 0.1}, global_avgpool, {reshape: [4]}, {dense: 8}, {elu: 0.5}]
            tasks:
              digit: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy, precision, top3_accuracy]}
              parity: {head: [{dense: 1}], loss: {binary_cross_entropy: {pos_weight: 2}}, metrics: [recall]}
            train: {optimizer: {rmsprop: {lr: 0.01}}, batch_size: 8, epochs: 1, log_every_step: true, shuffle: false}
            """
        let bases = try [model.replacingOccurrences(of: "DATA", with: "clean.csv"), newer]
            + ["mmoe-synthetic.yaml", "cross-stitch-multidigits.yaml", "soft-sharing-multidigits.yaml",
               "digits-residual-graph.yaml", "digits-task-gating.yaml", "multidigits-pcgrad.yaml", "digits.yaml"]
            .map { try String(contentsOf: TestModels.examples.appendingPathComponent($0), encoding: .utf8) }
        for index in 0..<Self.modelCases {
            let name = "model\(index).yaml"
            let text = Mutator.mutateText(bases[index % bases.count], random: &random)
            try Data(text.utf8).write(to: scratch.appendingPathComponent(name))
            // A third of them train too (one epoch), so that what check accepts also runs.
            let arguments = index % 3 == 0 ? ["train", path(name), "--backend", "cpu", "--epochs", "1",
                                              "--out", path("model-run\(index)")] : ["check", path(name)]
            try run(arguments, damaged: name, what: "model case \(index)")
        }
        for index in 0..<Self.csvCases {
            let name = "data\(index).csv"
            try Data(Mutator.mutateCSV(csv, random: &random)).write(to: scratch.appendingPathComponent(name))
            let modelFile = try write(model.replacingOccurrences(of: "DATA", with: name), to: "csv-model\(index).yaml")
            // The data reaches every reader: check, train (labels reach losses, metrics and class counts), and the
            // trained model's evaluate --data and predict --data.
            let checkpointFile = path("clean-run") + "/parameters.safetensors"
            let arguments = [["check", modelFile],
                             ["train", modelFile, "--backend", "cpu", "--out", path("csv-run\(index)")],
                             ["evaluate", cleanModel, "--backend", "cpu", "--checkpoint", checkpointFile, "--data", path(name)],
                             ["predict", cleanModel, "--backend", "cpu", "--checkpoint", checkpointFile, "--data", path(name),
                              "--out", path("predictions\(index).csv")]][index % 4]
            try run(arguments, damaged: name, what: "csv case \(index)")
        }
        for index in 0..<Self.checkpointCases {
            let folder = path("resume\(index)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let name = index % 2 == 0 ? "damaged\(index).safetensors" : "checkpoint.safetensors"
            let file = index % 2 == 0 ? path(name) : folder + "/" + name
            try Data(Mutator.mutateCheckpoint(checkpoint, random: &random)).write(to: URL(fileURLWithPath: file))
            let arguments = index % 2 == 0
                ? ["evaluate", cleanModel, "--backend", "cpu", "--checkpoint", file]
                : ["train", cleanModel, "--backend", "cpu", "--resume", folder, "--epochs", "2"]
            try run(arguments, damaged: name, what: "checkpoint case \(index)")
        }
        let cases = Self.modelCases + Self.csvCases + Self.checkpointCases
        print("fuzz (seed \(seed)): \(cases) mutated inputs in \(String(format: "%.1f", Date().timeIntervalSince(started))) s, "
            + "\(failures.count) failures; " + exits.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
        XCTAssertGreaterThanOrEqual(cases, 200)
        XCTAssertTrue(failures.isEmpty, failures.prefix(10).joined(separator: "\n\n"))
    }
}

/// SplitMix64: small, seeded, the same on every machine.
struct FuzzRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// The mutations: generic byte damage plus the values that broke parsers and trainers before.
enum Mutator {
    static let extremes = ["1e30", "-1", "2.5", "9.3e18", "9223372036854775808", "NaN", "inf", "-inf", "1e-45", "0",
                           "-0", "1e10", "100000000000000000000", "0x10", "", "\u{0}", "1\u{0}2", "abc", "\"", "'",
                           "[", "{", "}", "]", ":", "- ", "*a", "&a", "!!binary", "~", "null", "true", "1e300", "-1e300"]

    static func mutateText(_ text: String, random: inout FuzzRandom) -> String {
        var lines = text.components(separatedBy: "\n")
        for _ in 0..<(1 + random.below(3)) {
            let line = random.below(lines.count)
            switch random.below(7) {
            case 0:   // a number becomes an extreme value
                lines[line] = replaceNumber(in: lines[line], with: random.pick(extremes), random: &random)
            case 1: lines.remove(at: line); if lines.isEmpty { lines = [""] }
            case 2: lines.insert(lines[line], at: line)
            case 3:   // a word becomes another key or value from the file
                let words = text.split(whereSeparator: { !$0.isLetter && $0 != "_" }).map(String.init)
                if let word = lines[line].split(whereSeparator: { !$0.isLetter && $0 != "_" }).first {
                    lines[line] = lines[line].replacingOccurrences(of: String(word), with: random.pick(words))
                }
            case 4: lines[line] = String(lines[line].prefix(random.below(lines[line].count + 1)))
            case 5: lines[line] += random.pick(extremes)
            default: lines[line] = String(repeating: " ", count: random.below(4)) + lines[line]
            }
        }
        var bytes = Array(lines.joined(separator: "\n").utf8)
        if random.below(4) == 0 { bytes = mutateBinary(bytes, random: &random) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func mutateCSV(_ text: String, random: inout FuzzRandom) -> [UInt8] {
        var rows = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        for _ in 0..<(1 + random.below(2)) {
            let row = 1 + random.below(max(rows.count - 2, 1))
            guard rows.indices.contains(row), !rows[row].isEmpty else { continue }
            let count = rows[row].count
            // Label columns (the last two) are where values reach losses, metrics and class counts.
            let column = random.below(2) == 0 ? count - 1 - random.below(min(2, count)) : random.below(count)
            switch random.below(10) {
            case 0..<6: rows[row][column] = random.pick(extremes)
            case 6: rows[row].remove(at: column)
            case 7: rows[row].append(random.pick(extremes))
            case 8: rows[row][column] = "\"" + rows[row][column] + "\""
            default: rows.remove(at: row)
            }
        }
        let bytes = Array(rows.map { $0.joined(separator: ",") }.joined(separator: "\n").utf8)
        return random.below(10) == 0 ? mutateBinary(bytes, random: &random) : bytes
    }

    /// A checkpoint damaged in its metadata, its shapes or offsets, its values, or its bytes.
    static func mutateCheckpoint(_ original: [UInt8], random: inout FuzzRandom) -> [UInt8] {
        let length = Int(original.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        guard original.count >= 8 + length,
              var header = try? JSONSerialization.jsonObject(with: Data(original[8..<(8 + length)])) as? [String: Any] else {
            return mutateBinary(original, random: &random)
        }
        var data = Array(original[(8 + length)...])
        switch random.below(4) {
        case 0:   // a metadata value becomes an extreme
            var metadata = header["__metadata__"] as? [String: String] ?? [:]
            let key = random.pick(Array(metadata.keys.sorted()) + ["epoch", "step", "schedule_epochs", "batch_size"])
            metadata[key] = random.pick(extremes + ["-5", "3", "1000000000000", "99999999999999999999"])
            header["__metadata__"] = metadata
        case 1:   // a tensor's shape or offsets change
            let names = header.keys.filter { $0 != "__metadata__" }.sorted()
            let name = random.pick(names)
            guard var entry = header[name] as? [String: Any] else { break }
            let field = random.pick(["shape", "data_offsets", "dtype"])
            let values: [Any] = [[Int](), [0], [-1], [1 << 40], [3, 3], [Int.max], "F16", "F64", NSNull()]
            entry[field] = random.pick(values)
            header[name] = entry
        case 2:   // values become NaN, infinite or absurd (optimizer, weighting and early-stopping state included)
            for _ in 0..<(1 + random.below(3)) where data.count >= 4 {
                let at = 4 * random.below(data.count / 4)
                let bits = random.pick([Float.nan.bitPattern, Float.infinity.bitPattern, Float(1e30).bitPattern,
                                        Float(-1e30).bitPattern, UInt32(0x7FF0_0000), UInt32(0xFFFF_FFFF)])
                for k in 0..<4 { data[at + k] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k))) }
            }
        default:
            return mutateBinary(original, random: &random)
        }
        guard var json = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) else { return original }
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        let size = UInt64(json.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: size >> (8 * UInt64($0))) } + [UInt8](json) + data
    }

    static func mutateBinary(_ original: [UInt8], random: inout FuzzRandom) -> [UInt8] {
        var bytes = original
        // Damage the header (the first bytes and the JSON) more often than the tensor data.
        let headerEnd = min(bytes.count, 8 + Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) } % 1_000_000))
        for _ in 0..<(1 + random.below(4)) {
            guard !bytes.isEmpty else { break }
            let header = min(headerEnd, bytes.count)
            let inHeader = random.below(3) != 0 && header > 0
            let at = inHeader ? random.below(header) : random.below(bytes.count)
            switch random.below(6) {
            case 0: bytes[at] ^= UInt8(1 << random.below(8))
            case 1: bytes[at] = UInt8(truncatingIfNeeded: random.next())
            case 2: bytes = Array(bytes.prefix(at))
            case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 1 + random.below(64))], at: at)
            case 4: bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.below(16)))
            default:   // a digit in the header becomes a 9, stretching an offset or a shape
                if let digit = bytes[..<header].indices.filter({ (0x30...0x39).contains(bytes[$0]) }).randomElement(using: &random) {
                    bytes[digit] = 0x39
                }
            }
        }
        return bytes
    }

    private static func replaceNumber(in line: String, with value: String, random: inout FuzzRandom) -> String {
        let numbers = line.ranges(of: try! Regex("-?[0-9]+(\\.[0-9]+)?(e-?[0-9]+)?"))
        guard !numbers.isEmpty else { return line + " " + value }
        var result = line
        result.replaceSubrange(numbers[random.below(numbers.count)], with: value)
        return result
    }
}

extension FuzzRandom: RandomNumberGenerator {}

/// Runs `canopy` with a time limit (``runProcess(_:_:environment:directory:timeout:)``) in `directory`.
func runCanopyBounded(_ arguments: [String], in directory: URL, timeout: TimeInterval) throws -> BoundedRun {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("canopy")
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        throw XCTSkip("the canopy executable is not built next to the tests (\(executable.path))")
    }
    return try runProcess(executable, arguments, directory: directory, timeout: timeout)
}
