/// How the tasks share parameters beyond the `shared:` stem.
///
/// `shared:` always runs first (it may be empty). Then one scheme gives each task the representation its head
/// reads:
/// ```yaml
/// # hard sharing (no scheme key): every task reads the stem's output
/// mmoe: {experts: 8, expert: [{dense: 16}, relu], gates: per_task}     # or gates: one (OMoE)
/// cross_stitch: {column: [{dense: 32}, relu, {dense: 16}, relu], units_after: [1, 3], self_weight: 0.9}
/// soft_sharing: {column: [{dense: 32}, relu], l2: 0.01, trace_norm: 0.0}
/// graph: [{name: h1, op: dense, units: 64}, {name: a1, op: relu, in: h1}, {name: r, op: add, in: [a1, h1]}]
/// mtan: {trunk: [{conv2d: {filters: 16, kernel: 3, padding: 1}}, relu, {maxpool: 2}, ...], at: [1, 5]}
/// ```
/// `task_gating: true` (any scheme) puts a learned per-task sigmoid gate on what the task reads:
/// `z_t ← z_t ⊙ σ(W_t·z_t + b_t)`.
public enum SharingScheme: Equatable, Sendable {
    /// Hard parameter sharing: every task reads the `shared:` stem's output.
    case hard
    /// Multi-gate Mixture-of-Experts (Ma et al., KDD 2018), or its one-gate variant OMoE.
    case mixtureOfExperts(MixtureOfExpertsSpec)
    /// Cross-stitch networks (Misra et al., CVPR 2016): one column per task, mixed by learned units.
    case crossStitch(CrossStitchSpec)
    /// Soft parameter sharing: one tower per task, tied by penalties on corresponding parameters.
    case soft(SoftSharingSpec)
    /// A general graph of named nodes with explicit inputs (residual links, concatenations, products).
    case graph([GraphNodeSpec])
    /// Multi-Task Attention Network (Liu et al., CVPR 2019): one shared trunk, and per task soft-attention masks
    /// over the trunk's features at chosen depths.
    case mtan(MTANSpec)

    /// The model-file key of the scheme (`shared` for hard sharing).
    public var keyword: String {
        switch self {
        case .hard: return "shared"
        case .mixtureOfExperts: return "mmoe"
        case .crossStitch: return "cross_stitch"
        case .soft: return "soft_sharing"
        case .graph: return "graph"
        case .mtan: return "mtan"
        }
    }
}

/// `mmoe:`. Expert `e`'s layers are named `experts.<e>.<i>`; task `t`'s gate `gates.<t>` (`gates.all` for OMoE).
public struct MixtureOfExpertsSpec: Equatable, Sendable {
    /// How many experts (`experts:`, ≥ 1).
    public var experts: Int
    /// The layers of each expert (`expert:`, ≥ 1 layer); every expert has the same layers and its own parameters.
    /// The output must be flat.
    public var expert: [LayerSpec]
    /// One softmax gate per task (MMoE) or one gate shared by all tasks (OMoE) (`gates: per_task | one`).
    public var gates: GateSharing
    /// The section's key path (`mmoe` when read from a file), with which errors and graph labels start.
    public var keyPath: String
    /// Where the `mmoe:` value is written.
    public var location: SourceLocation

    /// How many gates mix the experts' outputs; the raw values are the words `gates:` takes.
    public enum GateSharing: String, Equatable, Sendable {
        /// One gate per task (MMoE), named `gates.<task>`.
        case perTask = "per_task"
        /// A single gate whose mixture every task reads (OMoE), named `gates.all`.
        case one
    }

    /// Creates an `mmoe:` section; by default one gate per task. Values are checked later, by the spec's rules.
    public init(experts: Int, expert: [LayerSpec], gates: GateSharing = .perTask, keyPath: String = "mmoe",
                location: SourceLocation = SourceLocation(file: "<code>")) {
        self.experts = experts; self.expert = expert; self.gates = gates
        self.keyPath = keyPath; self.location = location
    }
}

/// `cross_stitch:`. Task `t`'s column layers are named `columns.<t>.<i>`; the unit after layer `i` is
/// `cross_stitch.<i>.alpha`, a [tasks, tasks] matrix initialised to `self_weight` on the diagonal and
/// `(1 − self_weight) / (tasks − 1)` elsewhere.
public struct CrossStitchSpec: Equatable, Sendable {
    /// The layers of each task's column (`column:`); every task gets its own copy.
    public var column: [LayerSpec]
    /// Indices into `column` after which a cross-stitch unit mixes the columns (`units_after:`); default: after
    /// every activation that follows a dense or conv2d layer.
    public var unitsAfter: [Int]
    /// The initial weight a column keeps of itself (`self_weight:`, in (0, 1]; default 0.9).
    public var selfWeight: Float
    /// The section's key path (`cross_stitch` when read from a file), with which errors and graph labels start.
    public var keyPath: String
    /// Where the `cross_stitch:` value is written.
    public var location: SourceLocation

    /// Creates a `cross_stitch:` section. `unitsAfter` has no default here: the model file's default is
    /// ``CrossStitchSpec/defaultUnitsAfter(column:)``. Values are checked later, by the spec's rules.
    public init(column: [LayerSpec], unitsAfter: [Int], selfWeight: Float = 0.9, keyPath: String = "cross_stitch",
                location: SourceLocation = SourceLocation(file: "<code>")) {
        self.column = column; self.unitsAfter = unitsAfter; self.selfWeight = selfWeight
        self.keyPath = keyPath; self.location = location
    }
}

/// `soft_sharing:`. Task `t`'s tower layers are named `towers.<t>.<i>`. The loss gains
/// `l2 · Σ_{pairs a<b} Σ_i ‖P_a,i − P_b,i‖²` over corresponding tower parameters and, when `trace_norm` > 0,
/// `trace_norm · Σ_i ‖[vec P_1,i; …; vec P_T,i]‖_*` (the nuclear norm of the stacked parameters).
public struct SoftSharingSpec: Equatable, Sendable {
    /// The layers of each task's tower (`column:`).
    public var column: [LayerSpec]
    /// The weight of the squared L2 distance between corresponding parameters (`l2:`, ≥ 0; default 0.01).
    public var l2: Float
    /// The weight of the trace-norm penalty (`trace_norm:`, ≥ 0; default 0).
    public var traceNorm: Float
    /// The section's key path (`soft_sharing` when read from a file), with which errors and graph labels start.
    public var keyPath: String
    /// Where the `soft_sharing:` value is written.
    public var location: SourceLocation

    /// Creates a `soft_sharing:` section; by default an L2 tie of weight 0.01 and no trace-norm penalty.
    public init(column: [LayerSpec], l2: Float = 0.01, traceNorm: Float = 0, keyPath: String = "soft_sharing",
                location: SourceLocation = SourceLocation(file: "<code>")) {
        self.column = column; self.l2 = l2; self.traceNorm = traceNorm
        self.keyPath = keyPath; self.location = location
    }
}

/// `mtan:` (Liu, Johns & Davison, "End-to-End Multi-Task Learning with Attention", CVPR 2019). The trunk's layers
/// are shared (`trunk.<i>`). At each attention point `at[k]` (a trunk layer index), task t has its own attention
/// module: it reads the trunk's features p_k there — and, after the first point, also its previous attended
/// features brought to p_k's shape by a bridge — runs them through the `attention:` layers and a final projection
/// back to p_k's shape, and multiplies p_k by the sigmoid of that: â_t,k = σ(g_t,k(·)) ⊙ p_k. Task t's head reads
/// its last â. Parameters: `mtan.<t>.<k>.attention.<i>.*` (the hidden layers), `mtan.<t>.<k>.mask.*` (the
/// projection: a dense layer for flat features, a 1×1 convolution for [C, H, W]) and `mtan.<t>.<k>.bridge.*` (a
/// dense layer, or a 3×3 convolution whose stride matches a pooled trunk, as MTAN's conv-and-pool).
public struct MTANSpec: Equatable, Sendable {
    /// The shared trunk's layers (`trunk:`, ≥ 1 layer).
    public var trunk: [LayerSpec]
    /// The trunk layer indices whose outputs get task attention (`at:`), ascending; the last is the trunk's last
    /// layer, so that every task reads attended features. Default: ``MTANSpec/defaultPoints(trunk:)``.
    public var at: [Int]
    /// The hidden layers of every attention module (`attention:`), or nil for MTAN's own: one layer as wide as
    /// the features (dense, or a 1×1 convolution followed by batch norm) and a ReLU.
    public var attention: [LayerSpec]?
    /// The section's key path (`mtan` when read from a file), with which errors and graph labels start.
    public var keyPath: String
    /// Where the `mtan:` value is written.
    public var location: SourceLocation

    /// Creates an `mtan:` section. Values are checked later, by the spec's rules.
    public init(trunk: [LayerSpec], at: [Int], attention: [LayerSpec]? = nil, keyPath: String = "mtan",
                location: SourceLocation = SourceLocation(file: "<code>")) {
        self.trunk = trunk; self.at = at; self.attention = attention
        self.keyPath = keyPath; self.location = location
    }

    /// Where attention goes when `at:` is not given: after every activation that directly follows a dense or
    /// conv2d layer, and always at the trunk's last layer.
    public static func defaultPoints(trunk: [LayerSpec]) -> [Int] {
        var points = CrossStitchSpec.defaultUnitsAfter(column: trunk)
        if let last = trunk.indices.last, points.last != last { points.append(last) }
        return points
    }
}

/// One node of `graph:`: `{name: h2, op: add, in: [h1, x]}`. Its parameters are named `graph.<name>`.
/// The graph's input is the `shared:` stem's output, called `input`; a node without `in:` reads the node
/// before it (the first node reads `input`).
public struct GraphNodeSpec: Equatable, Sendable {
    /// The node's name (`name:`), which later nodes list in `in:`; unique, starting with a letter, and not `input`.
    public var name: String
    /// What the node computes (`op:`).
    public var op: GraphNodeOp
    /// The names of the nodes it reads (`in:`, a name or a list).
    public var inputs: [String]
    /// `graph[<index>]`.
    public var keyPath: String
    /// Where the node is written.
    public var location: SourceLocation

    /// Creates a graph node. Empty `inputs` means the node before it (or `input` for the first), as when `in:` is
    /// left out. Names and references are checked later, by the spec's rules.
    public init(name: String, op: GraphNodeOp, inputs: [String], keyPath: String,
                location: SourceLocation = SourceLocation(file: "<code>")) {
        self.name = name; self.op = op; self.inputs = inputs; self.keyPath = keyPath; self.location = location
    }
}

/// What a graph node computes.
public enum GraphNodeOp: Equatable, Sendable {
    /// Any layer (`op: dense, units: 64`, `op: conv2d, filters: …`, `op: relu`, …); one input.
    case layer(LayerKind)
    /// Element-wise sum of two or more inputs of the same shape (`op: add`).
    case add
    /// Element-wise product of two or more inputs of the same shape (`op: multiply`).
    case multiply
    /// Concatenation along the feature (or channel) dimension (`op: concat`); other dimensions must agree.
    case concat
}

extension GraphNodeSpec {
    /// The name by which graph nodes read the `shared:` stem's output (reserved: no node may take it).
    public static let inputName = "input"

    /// The node as a layer (with the node's key path and place), when its op is a layer.
    public var layer: LayerSpec? {
        guard case .layer(let kind) = op else { return nil }
        return LayerSpec(kind: kind, keyPath: keyPath, location: location)
    }
}

extension GraphNodeOp: CustomStringConvertible {
    /// The ops that combine several inputs, in the order messages list them: `add`, `multiply`, `concat`.
    public static let combining: [GraphNodeOp] = [.add, .multiply, .concat]

    /// The word `op:` uses (`dense`, `relu`, `add`, `concat`, ...).
    public var keyword: String {
        switch self {
        case .layer(let kind): return kind.keyword
        case .add: return "add"
        case .multiply: return "multiply"
        case .concat: return "concat"
        }
    }

    /// The layer's description (`dense 64`), or the combining op's word.
    public var description: String {
        if case .layer(let kind) = self { return kind.description }
        return keyword
    }
}

extension SharingScheme {
    /// The key path of the scheme's section (`mmoe`, `cross_stitch`, ...), empty for hard sharing.
    public var keyPath: String { self == .hard ? "" : keyword }
}
