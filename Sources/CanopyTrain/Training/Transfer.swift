import CanopyCore
import CanopyModel
import Foundation

/// What `init_from:` did: the parameters it loaded, those it skipped and why, and what `freeze:` keeps fixed.
public struct TransferReport: Sendable, Equatable {
    /// The file the parameters came from.
    public var file: String
    /// Model parameters loaded from the file, in graph order.
    public var loaded: [String]
    /// Model parameters the file does not have (they keep their initial values).
    public var notInFile: [String]
    /// File tensors that are not parameters of this model.
    public var notInModel: [String]
    /// Parameters whose shape differs: `name [10, 64] in the model vs [10, 32] in the file`.
    public var shapeDiffers: [String]
    /// Frozen parameters, in graph order.
    public var frozen: [String]

    /// Frozen parameters that were not loaded, so keep their random initial values.
    public var frozenButNotLoaded: [String] { frozen.filter { !loaded.contains($0) } }

    /// A few lines for people: what was loaded, skipped (and why) and frozen.
    public var lines: [String] {
        var lines = ["init_from \(file): loaded \(loaded.count) parameter\(loaded.count == 1 ? "" : "s")"
            + (loaded.isEmpty ? "" : " (\(Self.list(loaded)))")]
        if !notInFile.isEmpty { lines.append("  kept their initial values (not in the file): \(Self.list(notInFile))") }
        if !shapeDiffers.isEmpty { lines.append("  skipped, shape differs: \(Self.list(shapeDiffers))") }
        if !notInModel.isEmpty { lines.append("  ignored, not in this model: \(Self.list(notInModel))") }
        if !frozen.isEmpty { lines.append("  frozen: \(Self.list(frozen))") }
        if !frozenButNotLoaded.isEmpty {
            lines.append("  warning: frozen but not loaded, so fixed at their random initial values: "
                + Self.list(frozenButNotLoaded))
        }
        return lines
    }

    private static func list(_ names: [String]) -> String {
        names.count <= 8 ? names.joined(separator: ", ") : names.prefix(8).joined(separator: ", ") + ", … (\(names.count) in all)"
    }
}

/// Transfer learning: parameters from a checkpoint (`init_from:`). What `freeze:` keeps fixed is
/// ``ModelSummary/frozenParameterNames(_:)``.
enum Transfer {
    /// Reads `init_from:` once and checks it against a model's parameters: the report, and the file's parameters
    /// for the trainer to load (those whose name and shape match).
    ///
    /// - Throws: ``ModelFileError`` at `init_from` when the file cannot be read, when nothing matches, or, unless
    ///   `strict: false`, when anything does not match (a parameter missing from the file, a tensor the model
    ///   does not have, a shape that differs).
    static func plan(_ transfer: TransferSpec, names: [String], shapes: [String: [Int]], spec: ModelSpec,
                     frozen: Set<String>) throws -> (report: TransferReport, parameters: TrainingCheckpoint)? {
        guard let url = transfer.initFrom else { return nil }
        let (report, checkpoint) = try examine(url, strict: transfer.strict, names: names, shapes: shapes, spec: spec,
                                               frozen: frozen)
        // Only the parameters: the file's optimizer and other state are not needed.
        return (report, TrainingCheckpoint(parameters: checkpoint.parameters, file: checkpoint.file))
    }

    /// Reads the file and compares it with the model's parameters.
    private static func examine(_ url: URL, strict: Bool, names: [String], shapes: [String: [Int]], spec: ModelSpec,
                                frozen: Set<String>) throws -> (TransferReport, TrainingCheckpoint) {
        let checkpoint = try read(url, spec: spec)
        var byName: [String: [Int]] = [:]
        for tensor in checkpoint.parameters { byName[tensor.name] = tensor.shape }
        var report = TransferReport(file: url.relativePath, loaded: [], notInFile: [], notInModel: [],
                                    shapeDiffers: [], frozen: names.filter(frozen.contains))
        for name in names {
            guard let shape = byName[name] else { report.notInFile.append(name); continue }
            if shape == shapes[name] {
                report.loaded.append(name)
            } else {
                report.shapeDiffers.append("\(name) \(shapes[name] ?? []) in the model vs \(shape) in the file")
            }
        }
        let known = Set(names)
        report.notInModel = checkpoint.parameters.map(\.name).filter { !known.contains($0) }
        let location = spec.location(of: "init_from")
        guard !report.loaded.isEmpty else {
            throw ModelFileError(location: location, keyPath: "init_from",
                                 message: "\(url.lastPathComponent) has no parameter whose name and shape match this model")
        }
        if strict {
            var problems: [String] = []
            if !report.notInFile.isEmpty { problems.append("not in the file: " + report.notInFile.joined(separator: ", ")) }
            if !report.notInModel.isEmpty { problems.append("not in the model: " + report.notInModel.joined(separator: ", ")) }
            if !report.shapeDiffers.isEmpty { problems.append("shape differs: " + report.shapeDiffers.joined(separator: ", ")) }
            if !problems.isEmpty {
                throw ModelFileError(location: location, keyPath: "init_from",
                                     message: "\(url.lastPathComponent) does not fit the model (\(problems.joined(separator: "; "))); "
                                         + "to load only what matches, write init_from: {path: …, strict: false}")
            }
        }
        return (report, checkpoint)
    }

    /// Reads the `init_from:` file, placing any error at the key.
    private static func read(_ url: URL, spec: ModelSpec) throws -> TrainingCheckpoint {
        do {
            let checkpoint = try TrainingCheckpoint.read(from: url)
            if let bad = checkpoint.parameters.first(where: { $0.values.contains { !$0.isFinite } }) {
                throw CheckpointError(file: url.relativePath, message: "parameter '\(bad.name)' holds NaN or infinite values")
            }
            return checkpoint
        } catch let error as CheckpointError {
            throw ModelFileError(location: spec.location(of: "init_from"), keyPath: "init_from",
                                 message: "cannot use \(error.file) as the starting parameters: \(error.message)")
        }
    }
}
