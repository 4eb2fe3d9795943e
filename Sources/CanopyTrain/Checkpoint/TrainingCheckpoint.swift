import CanopyCore
import Foundation

/// Everything a training run needs to resume exactly, in one safetensors file: the parameters, the optimizer's
/// state, extra training state (such as uncertainty weighting's log-variances) and string metadata.
///
/// The file keeps parameters under their plain graph names, so any safetensors reader sees the names
/// `canopy check` prints; optimizer state is stored as `optimizer.<name>` and extra state as `state.<name>`:
/// ```
/// shared.0.weight            [128, 64]   parameter
/// optimizer.shared.0.weight.m [128, 64]  Adam's first moment of shared.0.weight
/// state.weighting.log_variance [3]       extra state
/// __metadata__: {"format": "canopy-checkpoint", "version": "1", "model": "digits-mlp", "epoch": "3", ...}
/// ```
/// ``read(from:)`` splits the prefixes back off. A plain parameters file (``RunOutput``'s
/// `parameters.safetensors`, metadata format `canopy-parameters`) reads as a checkpoint whose optimizer and
/// extra state are empty.
public struct TrainingCheckpoint: Sendable {
    /// A named float32 tensor; a shape of `[]` is a scalar.
    public typealias Tensor = (name: String, shape: [Int], values: [Float])

    /// The parameters, by graph name, in graph order.
    public var parameters: [Tensor]
    /// The optimizer's state by `"<parameter>.<state>"` (`m`, `v` for Adam; `velocity` for SGD).
    public var optimizerState: [Tensor]
    /// Other training state by name (for example `weighting.log_variance`).
    public var extraState: [Tensor]
    /// String metadata. ``write(to:)`` sets `format` and `version`; the trainer adds `model`, `model_file`,
    /// `epoch`, `step` and more.
    public var metadata: [String: String]
    /// The file this checkpoint was read from (used in errors), or `nil` for one made in memory.
    public var file: String?

    /// The `format` metadata value of a checkpoint.
    public static let format = "canopy-checkpoint"
    /// The `format` metadata value of a plain parameters file, which also reads as a checkpoint.
    public static let parametersFormat = "canopy-parameters"
    /// The checkpoint layout version this code writes and reads.
    public static let version = "1"
    /// The name prefixes of optimizer and extra state inside the file.
    public static let optimizerPrefix = "optimizer.", extraPrefix = "state."

    /// Creates a checkpoint from tensors already on the host; nothing checks that each shape matches its values.
    public init(parameters: [Tensor], optimizerState: [Tensor] = [], extraState: [Tensor] = [],
                metadata: [String: String] = [:], file: String? = nil) {
        self.parameters = parameters
        self.optimizerState = optimizerState
        self.extraState = extraState
        self.metadata = metadata
        self.file = file
    }

    /// A checkpoint holding the current values of every parameter of `store`, in graph order.
    public init(parameters store: ParameterStore, metadata: [String: String] = [:]) throws {
        var tensors: [Tensor] = []
        for name in store.names {
            let values = try store.backend.download(store.buffer(named: name)!)
            tensors.append((name, store.shapes[name]!, Array(values.prefix(store.count(named: name)))))
        }
        self.init(parameters: tensors, metadata: metadata)
    }

    /// A parameter by name.
    public func parameter(named name: String) -> Tensor? { parameters.first { $0.name == name } }

    /// The name used in errors.
    var fileName: String { file ?? "checkpoint" }

    // MARK: Writing and reading

    /// Writes the checkpoint as one safetensors file, atomically (a temporary file renamed over `url`), with
    /// metadata `format` = `canopy-checkpoint` and `version` = `1`.
    ///
    /// - Throws: ``CheckpointError`` when a parameter name starts with `optimizer.` or `state.` (it would read
    ///   back as state), when a name repeats or a shape does not match its values, or when the file cannot be
    ///   written.
    public func write(to url: URL) throws {
        try safeTensors(file: url.relativePath).write(to: url)
    }

    /// The checkpoint as a safetensors file's contents (what ``write(to:)`` writes).
    func safeTensors(file: String) throws -> SafeTensorsFile {
        if let clash = parameters.first(where: {
            $0.name.hasPrefix(Self.optimizerPrefix) || $0.name.hasPrefix(Self.extraPrefix)
        }) {
            throw CheckpointError(file: file, message: "parameter name '\(clash.name)' starts with a reserved prefix "
                + "('\(Self.optimizerPrefix)' or '\(Self.extraPrefix)')")
        }
        var tensors = parameters
        tensors += optimizerState.map { (Self.optimizerPrefix + $0.name, $0.shape, $0.values) }
        tensors += extraState.map { (Self.extraPrefix + $0.name, $0.shape, $0.values) }
        var metadata = self.metadata
        metadata["format"] = Self.format
        metadata["version"] = Self.version
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// Reads a checkpoint, or a plain parameters file as a checkpoint without optimizer or extra state.
    ///
    /// - Throws: ``CheckpointError`` when the file is missing or not a valid safetensors file, when its metadata
    ///   has no `format` (not written by Canopy), names an unknown format, or a checkpoint version other than 1.
    public static func read(from url: URL) throws -> TrainingCheckpoint {
        try checkpoint(from: { try SafeTensorsFile.read(from: url) }, file: url.relativePath)
    }

    /// Decodes a checkpoint from a file's contents (as ``read(from:)`` reads it); `file` names them in errors.
    public static func decoded(_ bytes: [UInt8], file: String) throws -> TrainingCheckpoint {
        try checkpoint(from: { try SafeTensorsFile.decoded(bytes, file: file) }, file: file)
    }

    /// The checkpoint in the safetensors contents `read` returns.
    private static func checkpoint(from read: () throws -> SafeTensorsFile, file: String) throws -> TrainingCheckpoint {
        let contents: SafeTensorsFile
        do {
            contents = try read()
        } catch var error as CheckpointError {
            error.message = "cannot read the checkpoint: " + error.message
            throw error
        }
        guard let format = contents.metadata["format"] else {
            throw CheckpointError(file: file, message: "not a Canopy checkpoint: the safetensors metadata has no "
                + "'format' (expected '\(Self.format)' or '\(Self.parametersFormat)')")
        }
        switch format {
        case Self.parametersFormat:
            return TrainingCheckpoint(parameters: contents.tensors, metadata: contents.metadata, file: file)
        case Self.format:
            let version = contents.metadata["version"] ?? "(none)"
            guard version == Self.version else {
                throw CheckpointError(file: file, message: "checkpoint version \(version) is not supported; "
                    + "this Canopy reads version \(Self.version)")
            }
            var checkpoint = TrainingCheckpoint(parameters: [], metadata: contents.metadata, file: file)
            for tensor in contents.tensors {
                if tensor.name.hasPrefix(optimizerPrefix) {
                    checkpoint.optimizerState.append((String(tensor.name.dropFirst(optimizerPrefix.count)),
                                                      tensor.shape, tensor.values))
                } else if tensor.name.hasPrefix(extraPrefix) {
                    checkpoint.extraState.append((String(tensor.name.dropFirst(extraPrefix.count)),
                                                  tensor.shape, tensor.values))
                } else {
                    checkpoint.parameters.append(tensor)
                }
            }
            return checkpoint
        default:
            throw CheckpointError(file: file, message: "unknown format '\(format)' in the metadata "
                + "(Canopy reads '\(Self.format)' and '\(Self.parametersFormat)')")
        }
    }
}

/// Uploads a checkpoint's parameters into a parameter store.
///
/// - `strict: true` (evaluating, predicting, resuming): every parameter of the store must be in the checkpoint
///   with the same shape, and the checkpoint must have no other parameters. Otherwise nothing is loaded and the
///   error lists every difference: `missing: a, b; unexpected: c; shape differs: d [10, 64] in the model vs
///   [10, 32] in the checkpoint`.
/// - `strict: false` (transfer): loads each parameter whose name and shape both match and ignores the rest.
///
/// Either way, a parameter holding NaN or an infinity is refused: no model starts from, resumes or predicts
/// with diverged values.
///
/// - Returns: the names loaded, in the store's order.
/// - Throws: ``CheckpointError`` naming the checkpoint's file.
@discardableResult
public func loadParameters(from checkpoint: TrainingCheckpoint, into store: ParameterStore,
                           strict: Bool) throws -> [String] {
    if let bad = checkpoint.parameters.first(where: { $0.values.contains { !$0.isFinite } }) {
        throw CheckpointError(file: checkpoint.fileName,
                              message: "parameter '\(bad.name)' holds NaN or infinite values; nothing was loaded")
    }
    var byName: [String: TrainingCheckpoint.Tensor] = [:]
    for tensor in checkpoint.parameters { byName[tensor.name] = tensor }
    var missing: [String] = [], differing: [String] = [], matching: [String] = []
    for name in store.names {
        guard let tensor = byName[name] else { missing.append(name); continue }
        let shape = store.shapes[name]!
        if tensor.shape == shape && tensor.values.count == store.count(named: name) {
            matching.append(name)
        } else {
            differing.append("\(name) \(shape) in the model vs \(tensor.shape) in the checkpoint")
        }
    }
    if strict {
        let known = Set(store.names)
        let unexpected = checkpoint.parameters.map(\.name).filter { !known.contains($0) }
        var problems: [String] = []
        if !missing.isEmpty { problems.append("missing: " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { problems.append("unexpected: " + unexpected.joined(separator: ", ")) }
        if !differing.isEmpty { problems.append("shape differs: " + differing.joined(separator: ", ")) }
        if !problems.isEmpty {
            throw CheckpointError(file: checkpoint.fileName,
                                  message: "the parameters do not fit the model: " + problems.joined(separator: "; "))
        }
    }
    var values: [String: [Float]] = [:]
    for name in matching { values[name] = byName[name]!.values }
    do {
        try store.load(values)
    } catch {
        throw CheckpointError(file: checkpoint.fileName, message: "cannot load the parameters: \(error)")
    }
    return matching
}
