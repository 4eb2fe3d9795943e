/// The plain-text table `canopy check` prints.
extension ModelSummary {
    /// The summary as a table:
    /// ```
    /// model mmoe-synthetic (mmoe)
    /// layer               op          output  params
    /// input                           100
    /// experts (8 ×)
    ///   mmoe.expert[0]    dense 16    16      8 × 1,616
    ///   mmoe.expert[1]    relu        16
    ///   experts total                            12,928
    /// ...
    /// shared total                               12,928
    /// total                                      14,834
    /// ```
    /// Rows that stand for several copies (experts, per-task columns and towers) show `copies × per-copy` count.
    /// The footer states which parameters count as shared (see ``ModelSummary``).
    public func render() -> String {
        var table: [[String]] = [["layer", "op", "output", "params"], ["input", "", Self.shape(inputShape), ""]]
        func add(_ rows: [Row], copies: Int = 1, indent: String = "") {
            for row in rows {
                let count = row.parameterCount
                let params = count == 0 ? "" : copies > 1 ? "\(copies) × \(Self.grouped(count / copies))"
                    : Self.grouped(count)
                table.append([indent + row.keyPath, row.description, Self.shape(row.outputShape), params])
            }
        }
        let plainHard = sections.isEmpty
        add(shared)
        if plainHard || !shared.isEmpty {
            let stem = shared.reduce(0) { $0 + $1.parameterCount }
            table.append([plainHard ? "shared total" : "stem total", "", "", Self.grouped(stem)])
        }
        for section in sections {
            table.append([section.detail.isEmpty ? section.title : "\(section.title) (\(section.detail))"])
            add(section.rows, copies: section.copies, indent: "  ")
            table.append(["  \(section.title) total", "", "", Self.grouped(section.parameterCount)])
        }
        for task in tasks {
            add(task.rows)
            table.append(["tasks.\(task.name) total", "", "", Self.grouped(parameterCount(ofTask: task.name))])
        }
        if !plainHard {
            table.append(["shared total", "", "", Self.grouped(sharedParameterCount)])
        }
        table.append(["total", "", "", Self.grouped(totalParameterCount)])
        if nonTrainableParameterCount > 0 {
            table.append(["  of which running statistics (not trained)", "", "", Self.grouped(nonTrainableParameterCount)])
        }
        // Headings (one cell) are printed as they are and do not widen the columns.
        let widths = (0..<4).map { column in table.filter { $0.count == 4 }.map { $0[column].count }.max() ?? 0 }
        var lines = ["model \(name)" + (scheme == "shared" ? "" : " (\(scheme))")]
        for cells in table {
            if cells.count == 1 {
                lines.append(cells[0])
                continue
            }
            let left = (0..<3).map { cells[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            let right = String(repeating: " ", count: widths[3] - cells[3].count) + cells[3]
            lines.append((left + [right]).joined(separator: "  ").trimmingTrailingSpaces())
        }
        if !plainHard {
            lines.append("tasks.<t> total counts what task t owns: its gate, column or tower, task gate and head; "
                         + "shared counts the rest (stem, experts, a single OMoE gate, cross-stitch units, graph nodes).")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
