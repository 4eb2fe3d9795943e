import Foundation

/// Class names travel with the parameters: the safetensors metadata key `class_names` holds a JSON object from
/// label column to its class names in index order (`{"species": ["cat", "dog"]}`), so that `evaluate` and
/// `predict` map names exactly as training did and print them.
public enum ClassNameMetadata {
    /// The metadata key.
    public static let key = "class_names"

    /// The label columns of `dataset` that hold class names, as metadata (empty when there are none).
    public static func metadata(for dataset: Dataset) -> [String: String] {
        var names: [String: [String]] = [:]
        for (column, label) in dataset.labels { if let classes = label.classNames { names[column] = classes } }
        guard !names.isEmpty, let data = try? JSONSerialization.data(withJSONObject: names, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return [:] }
        return [key: text]
    }

    /// The class names a checkpoint or parameters file carries, by label column (empty when it has none).
    ///
    /// - Throws: ``CheckpointError`` naming `file` when the value is not such a JSON object.
    public static func names(in metadata: [String: String], file: String) throws -> [String: [String]] {
        guard let text = metadata[key] else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [String]] else {
            throw CheckpointError(file: file, message: "metadata '\(key)' is not a JSON object of name lists")
        }
        return object
    }
}
