import Foundation

/// The shapes and parameter counts of a model, layer by layer, as the graph builder records them while it builds
/// the model's graph (``summarize(_:)`` builds one for a single example, before any data is read).
///
/// The model reads: input → `shared:` stem (``shared``) → the sharing scheme's blocks (``sections``: experts and
/// gates, cross-stitch columns and units, soft-sharing towers, graph nodes) → task gating (also a section) →
/// each task's head (``tasks``).
///
/// **Shared and per-task parameters.** A parameter belongs to task `t` when its name starts with `gates.<t>.`,
/// `columns.<t>.`, `towers.<t>.`, `gating.<t>.` or `tasks.<t>.` (an MMoE gate, a cross-stitch column, a
/// soft-sharing tower, a task gate, a head); every other parameter is shared: the stem, the experts, an OMoE's
/// single gate (`gates.all`), the cross-stitch units and the graph's nodes.
public struct ModelSummary: Equatable, Sendable {
    /// One learnable tensor: its checkpoint name and its number of scalars.
    public struct Parameter: Equatable, Sendable {
        /// The name the graph and checkpoints use: `shared.<i>.weight`, `experts.<e>.<i>.bias`, `gates.<t>.weight`,
        /// `columns.<t>.<i>.weight`, `cross_stitch.<i>.alpha`, `towers.<t>.<i>.weight`, `graph.<node>.weight`,
        /// `gating.<t>.weight`, `tasks.<task>.head.<i>.weight`, ... (`<i>` is the layer's index in its list).
        public var name: String
        /// The number of scalars (dense weight `in·units`, conv2d weight `filters·channels·k·k`, a bias its width).
        public var count: Int
        /// Whether the optimizer trains it (false for batch norm's running statistics).
        public var trainable: Bool

        /// A parameter's row entry.
        public init(name: String, count: Int, trainable: Bool = true) {
            self.name = name; self.count = count; self.trainable = trainable
        }
    }

    /// One layer (or gate, unit or graph node): where it is, what it does, and what comes out.
    public struct Row: Equatable, Sendable {
        /// The layer's key path (`shared[3]`, `mmoe.expert[0]`, `graph[2]`, `tasks.digit.head[0]`), or for a gate
        /// the prefix of its parameters (`gates.y1`, `gating.digit`).
        public var keyPath: String
        /// A short description such as `conv2d 16×3×3 s1 p1`.
        public var description: String
        /// The per-example shape going in (the first input's, for a graph node with several).
        public var inputShape: [Int]
        /// The per-example shape coming out.
        public var outputShape: [Int]
        /// The layer's learnable tensors: weight then bias, for every copy of the layer (every expert, every task's
        /// column), in graph order of the copies. Empty for layers without parameters.
        public var parameters: [Parameter]

        /// The layer's number of learnable scalars, over all its copies.
        public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
        /// The names of the layer's learnable tensors.
        public var parameterNames: [String] { parameters.map(\.name) }
    }

    /// A block between the stem and the heads: the experts, the gates, the columns, the units, the towers, the
    /// graph's nodes, or the task gates.
    public struct Section: Equatable, Sendable {
        /// The block's name: `experts`, `gates`, `columns`, `units`, `towers`, `graph` or `task gating`.
        public var title: String
        /// What the heading adds in parentheses: `8 ×`, `per task ×2`, `l2 0.01, trace norm 0`, or empty.
        public var detail: String
        /// The block's layers; each row's ``Row/parameters`` hold every copy.
        public var rows: [Row]
        /// How many copies each row stands for (experts, or tasks for columns and towers); 1 otherwise.
        public var copies: Int
        /// The block's number of learnable scalars, over all copies.
        public var parameterCount: Int { rows.reduce(0) { $0 + $1.parameterCount } }
    }

    /// One task's head.
    public struct Task: Equatable, Sendable {
        /// The task's name.
        public var name: String
        /// The shape the head reads (after the scheme and any task gate).
        public var inputShape: [Int]
        /// The head's layers.
        public var rows: [Row]
        /// The head's output shape, `[width]`.
        public var outputShape: [Int]
        /// The head's number of learnable scalars (see ``ModelSummary/parameterCount(ofTask:)`` for everything
        /// the task owns).
        public var parameterCount: Int { rows.reduce(0) { $0 + $1.parameterCount } }
    }

    /// The model's name.
    public var name: String
    /// The per-example input shape.
    public var inputShape: [Int]
    /// The `shared:` stem's layers.
    public var shared: [Row]
    /// The stem's output shape (the input shape when the stem is empty).
    public var sharedOutputShape: [Int]
    /// The model-file key of the sharing scheme (`shared` for hard sharing, `mmoe`, `cross_stitch`, ...).
    public var scheme: String
    /// The scheme's blocks and then the task gates, in the order the model runs them; empty for hard sharing
    /// without task gating.
    public var sections: [Section]
    /// The tasks in file order.
    public var tasks: [Task]
    /// Every learnable tensor of the model in graph order: the stem; the scheme (experts in order, then the gates
    /// in task order; cross-stitch: for each column layer, every task's copy then the unit after it; towers task
    /// by task; graph nodes in order); the task gates in task order; then the heads in task order.
    public var parameters: [Parameter]
    /// Whether `gates.all` is an OMoE's one gate for every task (shared even if a task is called `all`).
    var hasSharedGate = false

    /// The task that owns the parameter called `name`, or nil when it is shared (see the rule above).
    public func owner(ofParameter name: String) -> String? {
        if hasSharedGate && name.hasPrefix("gates.all.") { return nil }
        for task in tasks {
            for prefix in ["gates", "columns", "towers", "gating", "mtan", "tasks"] where name.hasPrefix("\(prefix).\(task.name).") {
                return task.name
            }
        }
        return nil
    }

    /// The number of learnable scalars the task called `name` owns: its gate, column or tower, task gate and head.
    public func parameterCount(ofTask name: String) -> Int {
        parameters.filter { owner(ofParameter: $0.name) == name }.reduce(0) { $0 + $1.count }
    }

    /// The number of learnable scalars that serve every task: the stem and the scheme's shared blocks.
    public var sharedParameterCount: Int {
        parameters.filter { owner(ofParameter: $0.name) == nil }.reduce(0) { $0 + $1.count }
    }

    /// The whole model's number of learnable scalars.
    public var totalParameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
    /// How many of them are state rather than trained (batch norm's running statistics).
    public var nonTrainableParameterCount: Int { parameters.filter { !$0.trainable }.reduce(0) { $0 + $1.count } }

    /// Every row of the model: stem, sections, heads.
    public var allRows: [Row] { shared + sections.flatMap(\.rows) + tasks.flatMap(\.rows) }

    static func shape(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

    /// `1234567` as `1,234,567`: how Canopy prints counts for people.
    public static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }
}
