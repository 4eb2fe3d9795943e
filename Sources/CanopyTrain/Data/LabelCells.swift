/// The label columns of a labels CSV read row by row, shared by the CSV and image-folder loaders: each cell is a
/// declared missing marker (a missing label), a class name (a column that may hold names, resolved to indices once
/// the file is read, see ``ClassNameColumn``) or a number parsed strictly.
struct LabelCells {
    /// The label columns, in the order cells are read.
    let columns: [String]
    private var values: [[Float]], present: [[Bool]]
    private var nameColumns: [ClassNameColumn?]
    private let markers: [[UInt8]]

    /// Prepares to read `columns`, those in `classNames` as possible class names, with `missing` markers, room
    /// reserved for `rowCapacity` rows.
    init(columns: [String], classNames: [String: ClassNames], missing: [String], rowCapacity: Int) {
        self.columns = columns
        values = columns.map { _ in [Float](capacity: rowCapacity) }
        present = columns.map { _ in [Bool](capacity: rowCapacity) }
        nameColumns = columns.map { name in classNames[name].map { ClassNameColumn(naming: $0, column: name) } }
        markers = missing.map { Array($0.utf8) }
    }

    /// Whether `cell` (spaces and tabs around it ignored) is a declared missing marker.
    func isMissing(_ cell: UnsafeBufferPointer<UInt8>) -> Bool {
        if markers.isEmpty { return false }
        let text = trimmingSpacesAndTabs(cell)
        return markers.contains { $0.elementsEqual(text) }
    }

    /// Reads row `row`'s cell of label column `k` (written on `line` of `file`).
    mutating func read(_ cell: UnsafeBufferPointer<UInt8>, column k: Int, row: Int, line: Int, file: String) throws {
        let value: Float?
        if isMissing(cell) {
            value = nil
        } else if nameColumns[k] != nil {
            value = try nameColumns[k]!.read(cell, row: row, line: line, file: file)
        } else {
            value = try parseNumericCell(cell, file: file, line: line, column: columns[k])
        }
        values[k].append(value ?? 0)
        present[k].append(value != nil)
    }

    /// The columns read, by name, with class names resolved.
    mutating func finish(file: String) throws -> [String: LabelColumn] {
        var labels = [String: LabelColumn]()
        for (k, name) in columns.enumerated() {
            let names = try nameColumns[k]?.resolve(into: &values[k], file: file)
            var column = LabelColumn(checkedValues: values[k], present: present[k])
            column.classNames = names
            labels[name] = column
        }
        return labels
    }
}
