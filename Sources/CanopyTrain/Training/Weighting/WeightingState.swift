import Foundation

/// A weighting method's saved state as read from a checkpoint, with the checks every method shares. A
/// checkpoint is outside data: each accessor validates what it returns and throws ``CheckpointError`` otherwise.
///
/// Tensor names (the checkpoint stores them under `state.`): `weighting.weights` (every method),
/// `weighting.adam` (methods that learn their weights), and each method's own.
struct SavedWeightingState {
    /// Saved tensors by name (the checkpoint's extra state; other entries are ignored).
    var tensors: [String: [Float]]
    /// Tasks in the model now.
    var taskCount: Int

    /// The name of the current weights, saved by every method.
    static let weightsName = "weighting.weights"
    /// The name of the state of a ``ScalarAdam`` that moves a method's weights or log-variances.
    static let adamName = "weighting.adam"

    /// A tensor of ``state`` holding doubles bit for bit.
    static func tensor(_ name: String, _ values: [Double]) -> (name: String, values: [Float]) {
        (name, DoubleBits.encode(values))
    }

    /// The doubles saved under `name`, one per task, finite in float32; nil when there are none.
    func doubles(_ name: String) throws -> [Double]? {
        guard let raw = tensors[name] else { return nil }
        let values = DoubleBits.decode(raw)
        guard raw.count == 2 * taskCount else {
            throw CheckpointError(file: "checkpoint", message: "'state.\(name)' holds \(raw.count / 2) values; "
                + "the model has \(taskCount) tasks")
        }
        guard values.allSatisfy({ $0.isFinite && abs($0) <= Double(Float.greatestFiniteMagnitude) }) else {
            throw CheckpointError(file: "checkpoint", message: "'state.\(name)' holds a value that is not finite")
        }
        return values
    }

    /// Like ``doubles(_:)``, for state the method cannot do without.
    func required(_ name: String) throws -> [Double] {
        guard let values = try doubles(name) else { throw Self.missing }
        return values
    }

    /// The saved weights: one per task, finite, none negative.
    func weights() throws -> [Double] {
        let weights = try required(Self.weightsName)
        guard weights.allSatisfy({ $0 >= 0 }) else {
            throw CheckpointError(file: "checkpoint", message: "'state.\(Self.weightsName)' holds a negative weight")
        }
        return weights
    }

    /// A copy of `adam` with the saved ``adamName`` state (see ``ScalarAdam/restore(_:)``).
    func adam(_ adam: ScalarAdam) throws -> ScalarAdam {
        guard let raw = tensors[Self.adamName] else { throw Self.missing }
        var restored = adam
        try restored.restore(raw)
        return restored
    }

    private static let missing = CheckpointError(file: "checkpoint", message: "the task-weighting state is missing")
}

/// Stores doubles in float32 tensors bit for bit: each double becomes two floats holding its high and low
/// 32 bits, so a checkpoint restores host-side state exactly.
public enum DoubleBits {
    /// Two floats per double: its high 32 bits, then its low 32 bits.
    public static func encode(_ values: [Double]) -> [Float] {
        values.flatMap { value -> [Float] in
            let bits = value.bitPattern
            return [Float(bitPattern: UInt32(truncatingIfNeeded: bits >> 32)), Float(bitPattern: UInt32(truncatingIfNeeded: bits))]
        }
    }

    /// The doubles ``encode(_:)`` stored; a trailing odd float is ignored.
    public static func decode(_ floats: [Float]) -> [Double] {
        stride(from: 0, to: floats.count - 1, by: 2).map { i in
            Double(bitPattern: UInt64(floats[i].bitPattern) << 32 | UInt64(floats[i + 1].bitPattern))
        }
    }
}
