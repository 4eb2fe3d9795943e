import CanopyModel
import Foundation

/// Loads a ``Dataset`` of PNG or JPEG images named by a CSV of labels (`data: {source: {images: labels.csv}}`).
///
/// ```text
/// file,shape,color
/// img/00001.png,circle,red
/// img/00002.png,square,
/// ```
/// The CSV is read with ``CSVDataset``'s rules (header row, RFC 4180, `data.missing` markers, class names). Column
/// `fileColumn` names each row's image, relative to the CSV's directory (or absolute); the label columns are read
/// as in any CSV; other columns are ignored. Each image must be `height × width` pixels, and is decoded to `C × H
/// × W` floats in [0, 1] in CHW order (see ``ImageDecoding`` for the channel rules), so that `input.scale` and
/// `input.normalize` apply as they do to CSV features.
///
/// Errors name the CSV, the line of the row, the file column and the image's path: a missing image, one that is
/// not a PNG or JPEG, a damaged or truncated one, or one of the wrong size.
public enum ImageFolderDataset {
    /// Reads the labels CSV at `url` and decodes every image it names.
    ///
    /// - Parameters:
    ///   - shape: the input shape `[C, H, W]`, C 1 or 3.
    ///   - labelColumns: the label columns to read.
    ///   - missing: label cell texts that mean "no label".
    ///   - classNames: how columns that may hold class names get their classes.
    /// - Throws: ``DataError`` (see above, and ``CSVDataset`` for the CSV's own errors).
    public static func load(url: URL, fileColumn: String, shape: [Int], labelColumns: [String],
                            missing: [String] = [], classNames: [String: ClassNames] = [:]) throws -> Dataset {
        let file = url.relativePath
        guard shape.count == 3, shape[0] == 1 || shape[0] == 3, shape[1] >= 1, shape[2] >= 1 else {
            throw DataError(file: file, message: "images need input.shape [channels, height, width] with 1 (gray) or "
                                + "3 (RGB) channels; input.shape is \(shape)")
        }
        let (channels, height, width) = (shape[0], shape[1], shape[2])
        let featureCount = channels * height * width
        let directory = url.deletingLastPathComponent()
        let input = try CSVDataset.open(url, file: file)
        var counter = try CSVReader(input, file: file)
        let rowCapacity = max(try counter.countRecords() - 1, 0)
        var reader = try CSVReader(input, file: file)

        var header: [String]?
        var fileIndex = 0, labelIndices: [Int] = []
        // Grown row by row (reserved up to 256 MiB): a long CSV naming missing images must fail, not allocate.
        var features = [Float]()
        features.reserveCapacity(min(rowCapacity * featureCount, 1 << 26))
        var labelCells = LabelCells(columns: labelColumns, classNames: classNames, missing: missing,
                                    rowCapacity: rowCapacity)
        var rowCount = 0
        var imageBytes = Data()

        try reader.forEachRecord { fields in
            let line = fields.line
            guard let columns = header else {
                let names = fields.strings.map { String(trimmingSpacesAndTabs($0)) }
                fileIndex = try column(fileColumn, role: "image file", in: names, file: file, line: line)
                labelIndices = try labelColumns.map { try column($0, role: "label", in: names, file: file, line: line) }
                if labelColumns.contains(fileColumn) {
                    throw DataError(file: file, line: line, column: fileColumn,
                                    message: "the image file column cannot also be a label column")
                }
                header = names
                return
            }
            guard fields.count == columns.count else {
                throw DataError(file: file, line: line,
                                message: "row has \(fields.count) fields but the header has \(columns.count)")
            }
            let name = String(trimmingSpacesAndTabs(fields.string(fileIndex)))
            func fail(_ message: String) -> DataError {
                DataError(file: file, line: line, column: fileColumn, message: "row \(rowCount + 1): \(message)")
            }
            guard !name.isEmpty else { throw fail("empty cell; every row must name its image file") }
            let imageURL = name.hasPrefix("/") ? URL(fileURLWithPath: name)
                : directory.appendingPathComponent(name)
            do {
                let image = try InputFile(imageURL, kind: "an image file")
                imageBytes = try image.readAll(limit: ImageDecoding.maximumFileSize)
            } catch let problem as InputFile.Problem {
                throw fail("image '\(name)': \(problem.message)")
            }
            let start = rowCount * featureCount
            features.append(contentsOf: repeatElement(0, count: featureCount))
            let problem = imageBytes.withUnsafeBytes { bytes in
                features.withUnsafeMutableBufferPointer { out in
                    ImageDecoding.decode(bytes, channels: channels, height: height, width: width,
                                         into: UnsafeMutableBufferPointer(rebasing: out[start..<(start + featureCount)]))
                }
            }
            if let problem { throw fail("image '\(name)': \(problem)") }
            for (k, index) in labelIndices.enumerated() {
                try labelCells.read(fields[index], column: k, row: rowCount, line: line, file: file)
            }
            rowCount += 1
        }
        guard header != nil else {
            throw DataError(file: file, message: "the file is empty; a header row naming the columns is required")
        }
        guard rowCount > 0 else { throw DataError(file: file, message: "the file has a header row but no data rows") }
        let labels = try labelCells.finish(file: file)
        return Dataset(checkedRowCount: rowCount, featureCount: featureCount, features: features,
                       featureNames: shapedFeatureNames(shape), labels: labels)
    }

    /// The position of column `name` in `header`, or an error with a suggestion.
    private static func column(_ name: String, role: String, in header: [String], file: String,
                               line: Int) throws -> Int {
        if let index = header.firstIndex(of: name) { return index }
        var message = "no \(role) column '\(name)' in the header"
        if let suggestion = closestName(to: name, among: header) {
            message += " (did you mean '\(suggestion)'?)"
        } else {
            message += "; columns are: \(header.prefix(12).joined(separator: ", "))"
        }
        throw DataError(file: file, line: line, column: name, message: message)
    }
}
