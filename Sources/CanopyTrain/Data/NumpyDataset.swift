import CanopyModel
import Foundation

/// Loads a ``Dataset`` from NumPy `.npy` arrays (`data: {source: {features: x.npy, labels: {digit: y.npy}}}`).
///
/// The features array has shape `[N, ...]` where `...` is `input.shape` (or its product, flattened; `[N]` for
/// one feature); each label
/// array has `N` values (shape `[N]` or `[N, 1]`) of any type ``NumpyArray`` reads. A NaN in a float label array
/// is a missing label; every other value is present. Features must be finite.
public enum NumpyDataset {
    /// Reads the features array and every label array.
    ///
    /// - Throws: ``DataError`` naming the file: anything ``NumpyArray/read(url:)`` refuses, a features shape that
    ///   is not `[N] + shape`, a label array whose shape is not `[N]` or `[N, 1]`, a non-finite feature (with its
    ///   row), no rows.
    public static func load(features url: URL, labels labelFiles: [String: URL], shape: [Int]) throws -> Dataset {
        let file = url.relativePath
        let array = try NumpyArray.read(url: url)
        let featureCount = shape.reduce(1, *)
        guard let rowCount = array.shape.first,
              Array(array.shape.dropFirst()) == shape || array.shape.dropFirst().elementsEqual([featureCount])
                || (array.shape.count == 1 && featureCount == 1) else {
            throw DataError(file: file, message: "the features array has shape \(array.shape); input.shape \(shape) "
                                + "needs [N, \(shape.map(String.init).joined(separator: ", "))]")
        }
        guard rowCount > 0 else { throw DataError(file: file, message: "the features array has no rows") }
        if let bad = array.values.firstIndex(where: { !$0.isFinite }) {
            throw DataError(file: file, message: "row \(bad / featureCount + 1): feature \(bad % featureCount) is "
                                + "\(array.values[bad]); features must be finite")
        }
        var labels: [String: LabelColumn] = [:]
        for (name, labelURL) in labelFiles.sorted(by: { $0.key < $1.key }) {
            let labelFile = labelURL.relativePath
            let column = try NumpyArray.read(url: labelURL)
            guard column.shape == [rowCount] || column.shape == [rowCount, 1] else {
                throw DataError(file: labelFile, column: name, message: "the label array has shape \(column.shape); "
                                    + "the features (\(file)) have \(rowCount) rows, so it needs [\(rowCount)]")
            }
            let present = column.values.map { !$0.isNaN }
            labels[name] = LabelColumn(values: column.values, present: present)
        }
        return Dataset(checkedRowCount: rowCount, featureCount: featureCount, features: array.values,
                       featureNames: shapedFeatureNames(shape), labels: labels)
    }
}
