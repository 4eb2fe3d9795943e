import CanopyCore

/// Draws every parameter's initial values from one seed, in graph order, so the same seed gives the same
/// initial model on every backend.
public enum ParameterInitializer {
    /// Initial values for each parameter of `graph`, by name, following each parameter's ``ParameterInit``.
    public static func initialValues(for graph: Graph, seed: UInt64) -> [String: [Float]] {
        var random = SeededRandom(seed: seed)
        var values: [String: [Float]] = [:]
        for parameter in graph.parameters {
            guard case let .parameter(name, initializer) = graph.node(of: parameter).op else { continue }
            let count = graph.count(of: parameter)
            switch initializer {
            case .zeros:
                values[name] = [Float](repeating: 0, count: count)
            case let .constant(value):
                values[name] = [Float](repeating: value, count: count)
            case let .heUniform(fanIn):
                let bound = (6 / Float(max(fanIn, 1))).squareRoot()
                values[name] = (0..<count).map { _ in (random.nextFloat() * 2 - 1) * bound }
            case let .values(given):
                values[name] = given
            case let .glorotUniform(fanIn, fanOut):
                let bound = (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
                values[name] = (0..<count).map { _ in (random.nextFloat() * 2 - 1) * bound }
            case let .uniform(bound):
                values[name] = (0..<count).map { _ in (random.nextFloat() * 2 - 1) * bound }
            case let .uniformWithZeroRow(bound, zeroRow, rowLength):
                let zeros = (zeroRow * rowLength)..<((zeroRow + 1) * rowLength)
                values[name] = (0..<count).map { index in
                    let drawn = (random.nextFloat() * 2 - 1) * bound
                    return zeros.contains(index) ? 0 : drawn
                }
            }
        }
        return values
    }
}
