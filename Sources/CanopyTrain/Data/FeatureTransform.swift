import CanopyModel
import Foundation

/// The per-feature affine map applied as features are batched: `x′ = (x − offset[j]) · factor[j]`.
///
/// Without `input.normalize` it is `input.scale` for every feature (offset 0). With `normalize: standard` it is
/// fitted on the training rows to zero mean and unit variance per feature (scikit-learn's `StandardScaler`:
/// the population standard deviation; a constant feature is only centred); with `normalize: minmax` to the range
/// [0, 1] (`MinMaxScaler`; a constant feature maps to 0). Fitted statistics travel in the checkpoint's and the
/// parameters file's metadata, so that `evaluate` and `predict` transform new rows exactly as training did.
public struct FeatureTransform: Equatable, Sendable {
    /// What is subtracted from each feature.
    public var offset: [Float]
    /// What each feature is then multiplied by.
    public var factor: [Float]

    /// The metadata keys the fitted statistics are stored under.
    public static let offsetKey = "input_offset", factorKey = "input_factor"

    /// Every feature multiplied by `scale`.
    public static func scaling(_ scale: Float, count: Int) -> FeatureTransform {
        FeatureTransform(offset: [Float](repeating: 0, count: count), factor: [Float](repeating: scale, count: count))
    }

    /// The transform a model file asks for, fitted on `train` when it normalises.
    public static func fitted(for input: InputSpec, on train: Dataset) -> FeatureTransform {
        let count = train.featureCount, rows = train.rowCount
        switch input.normalize {
        case .none:
            return .scaling(input.scale, count: count)
        case .standard:
            var mean = [Double](repeating: 0, count: count), square = [Double](repeating: 0, count: count)
            for r in 0..<rows {
                for j in 0..<count { mean[j] += Double(train.features[r * count + j]) }
            }
            for j in 0..<count { mean[j] /= Double(max(rows, 1)) }
            for r in 0..<rows {
                for j in 0..<count {
                    let d = Double(train.features[r * count + j]) - mean[j]
                    square[j] += d * d
                }
            }
            let deviation = square.map { ($0 / Double(max(rows, 1))).squareRoot() }
            return FeatureTransform(offset: mean.map(Float.init),
                                    factor: deviation.map { $0 > 0 ? Float(1 / $0) : 1 })
        case .minmax:
            var low = [Float](repeating: .infinity, count: count), high = [Float](repeating: -.infinity, count: count)
            for r in 0..<rows {
                for j in 0..<count {
                    let x = train.features[r * count + j]
                    low[j] = min(low[j], x)
                    high[j] = max(high[j], x)
                }
            }
            return FeatureTransform(offset: low.map { $0.isFinite ? $0 : 0 },
                                    factor: zip(low, high).map { $1 > $0 ? Float(1 / (Double($1) - Double($0))) : 1 })
        }
    }

    /// The statistics as metadata (nine significant digits, so they read back exactly).
    public var metadata: [String: String] {
        func text(_ values: [Float]) -> String { values.map { String(format: "%.9g", $0) }.joined(separator: ",") }
        return [Self.offsetKey: text(offset), Self.factorKey: text(factor)]
    }

    /// Reads the statistics a checkpoint or parameters file stored for `featureCount` features.
    ///
    /// - Throws: ``CheckpointError`` naming `file` when they are missing, of the wrong count or not finite.
    public init(metadata: [String: String], featureCount: Int, file: String) throws {
        func values(_ key: String) throws -> [Float] {
            guard let text = metadata[key] else {
                throw CheckpointError(file: file, message: "the model normalises its input but the file has no "
                    + "'\(key)' (was it trained without input.normalize?)")
            }
            let values = text.split(separator: ",").map { Float($0) }
            guard values.count == featureCount, values.allSatisfy({ $0?.isFinite == true }) else {
                throw CheckpointError(file: file, message: "'\(key)' does not hold \(featureCount) finite numbers")
            }
            return values.map { $0! }
        }
        offset = try values(Self.offsetKey)
        factor = try values(Self.factorKey)
    }

    /// Creates a transform from its parts.
    public init(offset: [Float], factor: [Float]) {
        self.offset = offset
        self.factor = factor
    }
}
