import CanopyCore
import CanopyModel

/// Every parameter of a planned run with its shape, element count and role, in creation order: the names
/// `init_from:`, `freeze:`, checkpoints and `parameters.safetensors` use (`canopy check --parameters`).
public struct ParameterTable: Sendable {
    /// What the optimizer does with a parameter.
    public enum Role: String, Sendable {
        /// Updated by the optimizer.
        case trained
        /// Trainable, but kept fixed by `freeze:`.
        case frozen
        /// Not a trainable weight: state the kernels update themselves (batch norm's running statistics).
        case state
    }

    /// One parameter.
    public struct Row: Equatable, Sendable {
        /// The graph name, e.g. `shared.0.weight`.
        public let name: String
        /// The shape, row-major (PyTorch's layouts: dense `[out, in]`, convolution `[F, C/G, KH, KW]`).
        public let shape: [Int]
        /// The number of elements.
        public let count: Int
        /// Trained, frozen or state.
        public let role: Role
        /// Whether `init_from:` loads it.
        public let loaded: Bool
    }

    /// The parameters in creation order (the order of their initial values).
    public let rows: [Row]

    /// The table of `plan`'s training graph.
    public init(_ plan: RunPlan) {
        let graph = plan.model.graph
        let loaded = Set(plan.transfer?.loaded ?? [])
        rows = graph.parameters.compactMap { value in
            guard let name = graph.name(of: value) else { return nil }
            let shape = graph.shape(of: value)
            let role: Role = !graph.isTrainable(value) ? .state : plan.frozen.contains(name) ? .frozen : .trained
            return Row(name: name, shape: shape, count: shape.reduce(1, *), role: role, loaded: loaded.contains(name))
        }
    }

    /// The lines `canopy check --parameters` prints: a total, then one aligned row per parameter.
    public var lines: [String] {
        let total = rows.reduce(0) { $0 + $1.count }
        let trained = rows.filter { $0.role == .trained }.reduce(0) { $0 + $1.count }
        let shapes = rows.map { "[" + $0.shape.map(String.init).joined(separator: ", ") + "]" }
        let counts = rows.map { ModelSummary.grouped($0.count) }
        let nameWidth = rows.map(\.name.count).max() ?? 0
        let shapeWidth = shapes.map(\.count).max() ?? 0, countWidth = counts.map(\.count).max() ?? 0
        var lines = ["parameters: \(rows.count), \(ModelSummary.grouped(total)) values, \(ModelSummary.grouped(trained)) trained"]
        for (index, row) in rows.enumerated() {
            var notes = row.role == .trained ? [] : [row.role.rawValue]
            if row.loaded { notes.append("loaded by init_from") }
            let line = "  " + padded(row.name, to: nameWidth) + "  " + padded(shapes[index], to: shapeWidth) + "  "
                + padded(counts[index], to: countWidth, alignRight: true)
                + (notes.isEmpty ? "" : "  " + notes.joined(separator: ", "))
            lines.append(line)
        }
        return lines
    }
}
