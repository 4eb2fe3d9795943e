import Foundation

/// The shapes and parameter counts of a model, layer by layer, as ``summarize(_:)`` works them out from the spec
/// alone (before any data is read).
public struct ModelSummary: Equatable, Sendable {
    /// One learnable tensor: its checkpoint name and its number of scalars.
    public struct Parameter: Equatable, Sendable {
        /// `shared.<i>.weight`, `shared.<i>.bias`, `tasks.<task>.head.<i>.weight` or `tasks.<task>.head.<i>.bias`,
        /// where `<i>` is the layer's index in its list.
        public var name: String
        /// The number of scalars (dense weight `in·units`, conv2d weight `filters·channels·k·k`, a bias its width).
        public var count: Int
    }

    /// One layer: where it is, what it does, and what comes out.
    public struct Row: Equatable, Sendable {
        /// The layer's key path (`shared[3]`, `tasks.digit.head[0]`).
        public var keyPath: String
        /// A short description such as `conv2d 16×3×3 s1 p1`.
        public var description: String
        /// The per-example shape going in.
        public var inputShape: [Int]
        /// The per-example shape coming out.
        public var outputShape: [Int]
        /// The layer's learnable tensors (weight then bias), empty for layers without parameters.
        public var parameters: [Parameter]

        /// The layer's number of learnable scalars.
        public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
        /// The names of the layer's learnable tensors.
        public var parameterNames: [String] { parameters.map(\.name) }
    }

    /// One task's head.
    public struct Task: Equatable, Sendable {
        /// The task's name.
        public var name: String
        /// The head's layers.
        public var rows: [Row]
        /// The head's output shape, `[width]`.
        public var outputShape: [Int]
        /// The head's number of learnable scalars.
        public var parameterCount: Int { rows.reduce(0) { $0 + $1.parameterCount } }
    }

    /// The model's name.
    public var name: String
    /// The per-example input shape.
    public var inputShape: [Int]
    /// The shared trunk's layers.
    public var shared: [Row]
    /// The trunk's output shape (the input shape when the trunk is empty).
    public var sharedOutputShape: [Int]
    /// The tasks in file order.
    public var tasks: [Task]

    /// The trunk's number of learnable scalars.
    public var sharedParameterCount: Int { shared.reduce(0) { $0 + $1.parameterCount } }
    /// The whole model's number of learnable scalars.
    public var totalParameterCount: Int { sharedParameterCount + tasks.reduce(0) { $0 + $1.parameterCount } }
    /// Every learnable tensor of the model: trunk first, then each task's head in file order.
    public var parameters: [Parameter] {
        shared.flatMap(\.parameters) + tasks.flatMap { $0.rows.flatMap(\.parameters) }
    }

    /// The summary as a plain-text table for `canopy check`:
    /// ```
    /// layer              op                   output      params
    /// input                                   1×8×8
    /// shared[0]          conv2d 16×3×3 s1 p1  16×8×8         160
    /// ...
    /// ```
    public func render() -> String {
        var table: [[String]] = [["layer", "op", "output", "params"], ["input", "", Self.shape(inputShape), ""]]
        func add(_ rows: [Row]) {
            for row in rows {
                table.append([row.keyPath, row.description, Self.shape(row.outputShape),
                              row.parameterCount == 0 ? "" : Self.grouped(row.parameterCount)])
            }
        }
        add(shared)
        table.append(["shared total", "", "", Self.grouped(sharedParameterCount)])
        for task in tasks {
            add(task.rows)
            table.append(["tasks.\(task.name) total", "", "", Self.grouped(task.parameterCount)])
        }
        table.append(["total", "", "", Self.grouped(totalParameterCount)])
        let widths = (0..<4).map { column in table.map { $0[column].count }.max() ?? 0 }
        var lines = ["model \(name)"]
        for cells in table {
            let left = (0..<3).map { cells[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            let right = String(repeating: " ", count: widths[3] - cells[3].count) + cells[3]
            lines.append((left + [right]).joined(separator: "  ").trimmingTrailingSpaces())
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func shape(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

    /// `1234567` as `1,234,567`.
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
