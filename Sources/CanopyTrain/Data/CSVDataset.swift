import CanopyModel
import Foundation

/// Loads a ``Dataset`` from a CSV file with a header row.
///
/// The file is read as RFC 4180 CSV in UTF-8 (see the rules below). The first record names the columns; every
/// other record is one row and must have as many fields as the header.
///
/// - Every cell that is used must be a finite number (`3`, `-0.5`, `1e-3`; spaces around it are ignored).
/// - An empty cell in a label column is a missing label: the row is kept, with `present = false` for that column.
///   So is a label cell whose text (spaces and tabs around it ignored) is exactly one of the declared `missing`
///   markers, such as `NA` or `-999` (`data.missing` in a model file; case matters).
/// - An empty or non-numeric cell in an input column, or one holding a declared missing marker, is an error
///   naming the file, the line and the column: inputs cannot be missing.
/// - Columns that are neither inputs nor labels are ignored (and not checked).
/// - Class labels are read as numbers like every other label; whether they are valid class indices is for the
///   task that uses them to check.
///
/// CSV rules: `,` between fields; `\r\n`, `\n` or `\r` between records; `"…"` quotes a field that contains
/// commas, quotes (doubled: `""`) or line breaks; empty lines are skipped; a UTF-8 byte order mark is skipped.
/// Line numbers in errors are 1-based and count the header as line 1. A field longer than 1 MiB, a record longer
/// than 64 MiB or with more than 1,048,576 fields is refused as soon as it is read (see ``CSVReader``).
///
/// Memory: the file is read twice in 1 MiB chunks, never whole. The first reading counts the records, so that the
/// features (4 bytes per row and input column) and the labels (5 bytes per row and label column) are allocated once
/// at their final size; the second parses every cell from its bytes. Peak memory is therefore about the size of the
/// dataset's floats plus the header and one record, whatever the size of the text.
public enum CSVDataset {
    /// Reads a CSV file into a dataset.
    ///
    /// - Parameters:
    ///   - url: a file URL.
    ///   - inputColumns: the feature columns, in the order the model will see them; `nil` means every column that
    ///     is not a label column, in file order.
    ///   - labelColumns: the columns holding task labels.
    ///   - missing: texts that mark a missing label, compared exactly with the trimmed cell (none by default; an
    ///     empty cell is always missing).
    ///   - textColumns: columns kept as text, cell by cell as read (quotes undone), in ``Dataset/rawColumns``.
    ///   - categoryColumns: columns kept as text with spaces and tabs around the cell removed, in
    ///     ``Dataset/rawColumns``; an empty cell or a missing marker in one is an error naming file, line and column.
    /// - Throws: ``DataError`` when the file is missing, unreadable, a directory or not a regular file, empty or
    ///   not UTF-8; when a field or record is beyond the limits; when a named column does not exist (with a
    ///   suggestion), is named twice or is both input and label; when a row has the wrong number of fields; when
    ///   an input cell is empty or a missing marker, or any used cell is not a finite number (every byte of it must
    ///   belong to the number); when there are no data rows.
    public static func load(url: URL, inputColumns: [String]?, labelColumns: [String],
                            missing: [String] = [], classNames: [String: ClassNames] = [:],
                            textColumns: [String] = [], categoryColumns: [String] = []) throws -> Dataset {
        let file = url.isFileURL ? url.relativePath : url.absoluteString
        let input = try open(url, file: file)
        // A first reading counts the records, so that every array is allocated once at its final size: a growing
        // array would briefly hold its old and new storage, up to 3× the data.
        var counter = try CSVReader(input, file: file)
        let recordCount = try counter.countRecords()
        var reader = try CSVReader(input, file: file)

        var layout: ColumnLayout?
        var features: [Float] = []
        // Label columns (those that may hold class names are resolved once the file is read).
        var labelCells = LabelCells(columns: labelColumns, classNames: classNames, missing: missing, rowCapacity: 0)
        var rowCount = 0
        var rawCells = [[String]](repeating: [], count: textColumns.count + categoryColumns.count)
        let markers = missing.map { Array($0.utf8) }
        /// The declared missing marker `cell` holds, if any.
        func marker(_ cell: UnsafeBufferPointer<UInt8>) -> String? {
            if markers.isEmpty { return nil }
            let text = trimmingSpacesAndTabs(cell)
            return markers.contains { $0.elementsEqual(text) } ? String(decoding: text, as: UTF8.self) : nil
        }

        try reader.forEachRecord { fields in
            let line = fields.line
            guard let layout else {
                let found = try ColumnLayout(header: fields.strings, inputColumns: inputColumns,
                                             labelColumns: labelColumns, rawColumns: textColumns + categoryColumns,
                                             file: file, line: line)
                // Bounded by what the file could hold, in case the rows turn out not to match the header: a row
                // of n fields takes at least n bytes, an input cell at least one.
                let rows = min(max(recordCount - 1, 0), input.size / found.header.count + 1)
                let (cells, overflow) = rows.multipliedReportingOverflow(by: found.inputIndices.count)
                features.reserveCapacity(overflow ? input.size : min(cells, input.size))
                labelCells = LabelCells(columns: labelColumns, classNames: classNames, missing: missing,
                                        rowCapacity: rows)
                layout = found
                return
            }
            guard fields.count == layout.header.count else {
                throw DataError(file: file, line: line,
                                message: "row has \(fields.count) fields but the header has \(layout.header.count)")
            }
            for index in layout.inputIndices {
                let name = layout.header[index]
                if let text = marker(fields[index]) {
                    throw DataError(file: file, line: line, column: name, message: "missing value '\(text)' in an "
                                        + "input column (only label cells may be missing)")
                }
                guard let value = try parseNumericCell(fields[index], file: file, line: line, column: name) else {
                    throw DataError(file: file, line: line, column: name,
                                    message: "empty cell in an input column (only label cells may be missing)")
                }
                features.append(value)
            }
            for (k, index) in layout.rawIndices.enumerated() {
                guard k >= textColumns.count else {
                    rawCells[k].append(String(decoding: fields[index], as: UTF8.self))
                    continue
                }
                let name = layout.header[index]
                let cell = String(decoding: trimmingSpacesAndTabs(fields[index]), as: UTF8.self)
                if cell.isEmpty || marker(fields[index]) != nil {
                    throw DataError(file: file, line: line, column: name, message: "\(cell.isEmpty ? "empty cell" : "missing value '\(cell)'") "
                                        + "in a categorical input column (only label cells may be missing)")
                }
                rawCells[k].append(cell)
            }
            for (k, index) in layout.labelIndices.enumerated() {
                try labelCells.read(fields[index], column: k, row: rowCount, line: line, file: file)
            }
            rowCount += 1
        }

        guard let layout else {
            throw DataError(file: file, message: "the file is empty; a header row naming the columns is required")
        }
        guard rowCount > 0 else {
            throw DataError(file: file, message: "the file has a header row but no data rows")
        }
        let labels = try labelCells.finish(file: file)
        let featureNames = layout.inputIndices.map { layout.header[$0] }
        var dataset = Dataset(checkedRowCount: rowCount, featureCount: featureNames.count, features: features,
                              featureNames: featureNames, labels: labels)
        for (name, cells) in zip(textColumns + categoryColumns, rawCells) { dataset.rawColumns[name] = cells }
        return dataset
    }

    /// The line on which data row `row` (0-based, the header not counted) of a CSV file starts, or `nil` when the
    /// file cannot be read that far. For error messages about rows found to be wrong after loading.
    static func line(ofRow row: Int, in url: URL) -> Int? {
        struct Found: Error { let line: Int }
        let file = url.relativePath
        guard row >= 0, let input = try? open(url, file: file), var reader = try? CSVReader(input, file: file) else {
            return nil
        }
        var record = 0
        do {
            try reader.forEachRecord { fields in
                if record == row + 1 { throw Found(line: fields.line) }
                record += 1
            }
        } catch let found as Found {
            return found.line
        } catch {}
        return nil
    }

    /// Opens a CSV file for reading, turning "missing", "a directory", "unreadable" … into ``DataError``s.
    static func open(_ url: URL, file: String) throws -> InputFile {
        do {
            return try InputFile(url, kind: "a CSV file")
        } catch let problem as InputFile.Problem {
            throw DataError(file: file, message: problem.message)
        }
    }
}

/// How a label column that may hold class names gets its classes.
public enum ClassNames: Equatable, Sendable {
    /// From this file: every distinct name, sorted (as scikit-learn's `LabelEncoder`), becomes a class index.
    case learn
    /// These names, in index order (the training data's, when reading validation, test or new data); a name
    /// outside them is an error.
    case fixed([String])
}

/// One label column that may hold class names, read cell by cell: a column whose cells are all numbers stays
/// numeric (parsed as strictly as any numeric cell, with no text kept), a column of names gets its classes, and a
/// column mixing both is refused.
struct ClassNameColumn {
    let naming: ClassNames
    let column: String
    /// The cells read as names (every present cell when the names are fixed): row, trimmed text and line.
    private var texts: [(row: Int, text: String, line: Int)] = []
    private var presentCount = 0, numberCount = 0
    private var firstNumber: (text: String, line: Int)?
    /// The strict numeric parser's error for the first cell that was not a number.
    private var firstProblem: DataError?

    init(naming: ClassNames, column: String) {
        self.naming = naming
        self.column = column
    }

    /// Reads one cell: nil for an empty (missing) cell, else its number, or 0 for a name resolved later.
    mutating func read(_ cell: UnsafeBufferPointer<UInt8>, row: Int, line: Int, file: String) throws -> Float? {
        let trimmed = trimmingSpacesAndTabs(cell)
        guard !trimmed.isEmpty else { return nil }
        presentCount += 1
        if case .learn = naming {
            do {
                let value = try parseNumericCell(cell, file: file, line: line, column: column) ?? 0
                numberCount += 1
                if firstNumber == nil { firstNumber = (String(decoding: trimmed, as: UTF8.self), line) }
                return value
            } catch let problem as DataError {
                if firstProblem == nil { firstProblem = problem }
            }
        }
        texts.append((row, String(decoding: trimmed, as: UTF8.self), line))
        return 0
    }

    /// Puts each named cell's class index into `values` and returns the class names, or nil for a numeric column.
    ///
    /// - Throws: ``DataError`` for a column mixing numbers and names (the parser's own error when numbers are the
    ///   majority), or a name outside fixed names, each with its line.
    func resolve(into values: inout [Float], file: String) throws -> [String]? {
        let names: [String]
        switch naming {
        case .learn:
            guard let firstName = texts.first else { return nil }
            if let firstNumber {
                // Mostly numbers: a bad cell in a numeric column, reported as any numeric cell is.
                if numberCount * 2 >= presentCount, let firstProblem { throw firstProblem }
                throw DataError(file: file, line: max(firstName.line, firstNumber.line), column: column,
                                message: "the column mixes numbers ('\(firstNumber.text.prefix(40))') "
                                    + "and names ('\(firstName.text.prefix(40))'); class labels are all one or the other")
            }
            names = Array(Set(texts.map(\.text))).sorted()
        case let .fixed(given):
            names = given
        }
        var index: [String: Float] = [:]
        for (i, name) in names.enumerated() { index[name] = Float(i) }
        for cell in texts {
            guard let value = index[cell.text] else {
                let shown = names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "")
                throw DataError(file: file, line: cell.line, column: column,
                                message: "'\(cell.text.prefix(40))' is not one of the classes the model knows "
                                    + "(\(shown))")
            }
            values[cell.row] = value
        }
        return names
    }
}

/// Which header columns are inputs and which are labels, checked against the header.
private struct ColumnLayout {
    let header: [String]
    let inputIndices: [Int]
    let labelIndices: [Int]
    /// The text and categorical columns, kept as text.
    let rawIndices: [Int]

    init(header rawHeader: [String], inputColumns: [String]?, labelColumns: [String], rawColumns: [String] = [],
         file: String, line: Int) throws {
        let header = rawHeader.map { String(trimmingSpacesAndTabs($0)) }
        var position = [String: Int]()
        for (i, name) in header.enumerated() {
            if name.isEmpty {
                throw DataError(file: file, line: line, message: "header field \(i + 1) is empty; every column needs a name")
            }
            if let first = position[name] {
                throw DataError(file: file, line: line, column: name,
                                message: "the header names this column twice (fields \(first + 1) and \(i + 1))")
            }
            position[name] = i
        }
        func lookUp(_ names: [String], role: String) throws -> [Int] {
            var seen = Set<String>()
            return try names.map { name in
                guard seen.insert(name).inserted else {
                    throw DataError(file: file, column: name, message: "\(role) column named twice")
                }
                guard let index = position[name] else {
                    var message = "no \(role) column '\(name)' in the header"
                    if let suggestion = closestName(to: name, among: header) {
                        message += " (did you mean '\(suggestion)'?)"
                    } else {
                        let shown = header.prefix(12).joined(separator: ", ")
                        message += "; columns are: \(shown)\(header.count > 12 ? ", … (\(header.count) in all)" : "")"
                    }
                    throw DataError(file: file, line: line, column: name, message: message)
                }
                return index
            }
        }
        let labelIndices = try lookUp(labelColumns, role: "label")
        let rawIndices = try lookUp(rawColumns, role: "text or categorical input")
        if let both = rawColumns.first(where: { labelColumns.contains($0) || (inputColumns ?? []).contains($0) }) {
            throw DataError(file: file, column: both, message: "a text or categorical input column cannot also be "
                                + (labelColumns.contains(both) ? "a label" : "a numeric input"))
        }
        let inputIndices: [Int]
        if let inputColumns {
            inputIndices = try lookUp(inputColumns, role: "input")
            if let both = inputColumns.first(where: { labelColumns.contains($0) }) {
                throw DataError(file: file, column: both, message: "a column cannot be both an input and a label")
            }
        } else {
            let labelSet = Set(labelIndices + rawIndices)
            inputIndices = header.indices.filter { !labelSet.contains($0) }
        }
        guard !inputIndices.isEmpty || !rawIndices.isEmpty else {
            throw DataError(file: file, line: line, message: "no input columns: every column is a label column")
        }
        self.header = header
        self.inputIndices = inputIndices
        self.labelIndices = labelIndices
        self.rawIndices = rawIndices
    }
}

extension Array {
    /// An empty array with room for `capacity` elements.
    init(capacity: Int) {
        self.init()
        reserveCapacity(capacity)
    }
}
