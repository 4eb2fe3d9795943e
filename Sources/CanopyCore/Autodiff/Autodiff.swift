/// Reverse-mode automatic differentiation over a ``Graph``.
///
/// ``gradients(of:withRespectTo:in:)`` appends the backward pass to the graph: it walks the nodes in reverse
/// topological order, asks each node's vector-Jacobian product rule (``VJPRules``) for its inputs' gradients,
/// and sums gradients where a value is used more than once. Only nodes on a path from a target to a loss
/// get backward nodes. Calling it once per task gives per-task gradients of shared parameters.
public enum Autodiff {
    /// Appends the backward pass of `Σᵢ seedᵢ · lossᵢ` and returns each target's gradient value.
    ///
    /// - Parameters:
    ///   - losses: scalar values ([1]) with their seeds: values of shape [1] holding dTotal/dLoss (the task
    ///     weights, for a weighted multi-task loss).
    ///   - targets: the values to differentiate with respect to, usually parameters.
    /// - Returns: a gradient for every target that influences some loss; targets that do not are absent.
    public static func gradients(of losses: [(loss: Value, seed: Value)], withRespectTo targets: [Value],
                                 in graph: Graph) throws -> [Value: Value] {
        let forwardCount = graph.nodes.count
        let dependsOnTarget = nodesDependingOn(Set(targets.map(\.node)), graph: graph, upTo: forwardCount)
        let reachesLoss = nodesReaching(Set(losses.map(\.loss.node)), graph: graph)

        var gradients: [Value: Value] = [:]
        func accumulate(_ value: Value, _ gradient: Value) {
            if let existing = gradients[value] {
                gradients[value] = graph.append(.binary(.add), inputs: [existing, gradient],
                                                outputShapes: [graph.shape(of: value)], label: "∂\(value) sum")
            } else {
                gradients[value] = gradient
            }
        }
        for (loss, seed) in losses {
            guard graph.shape(of: loss) == [1], graph.shape(of: seed) == [1] else {
                throw GraphError("a loss and its seed must have shape [1]")
            }
            accumulate(loss, seed)
        }

        for index in stride(from: forwardCount - 1, through: 0, by: -1)
        where dependsOnTarget[index] && reachesLoss[index] {
            let node = graph.nodes[index]
            let outputGradients = node.outputShapes.indices.map { gradients[Value(node: index, output: $0)] }
            guard outputGradients.contains(where: { $0 != nil }) else { continue }
            let needed = node.inputs.map { dependsOnTarget[$0.node] }
            let inputGradients = try VJPRules.inputGradients(of: node, at: index, outputGradients: outputGradients,
                                                             needed: needed, graph: graph)
            for (input, gradient) in zip(node.inputs, inputGradients) {
                if let gradient, dependsOnTarget[input.node] { accumulate(input, gradient) }
            }
        }
        var result: [Value: Value] = [:]
        for target in targets { result[target] = gradients[target] }
        return result
    }

    /// Marks the nodes that have a target among their ancestors (or are one).
    private static func nodesDependingOn(_ targets: Set<Int>, graph: Graph, upTo count: Int) -> [Bool] {
        var marks = [Bool](repeating: false, count: count)
        for index in 0..<count {
            marks[index] = targets.contains(index) || graph.nodes[index].inputs.contains { marks[$0.node] }
        }
        return marks
    }

    /// Marks the nodes that are ancestors of (or are) one of the loss nodes.
    private static func nodesReaching(_ losses: Set<Int>, graph: Graph) -> [Bool] {
        var marks = [Bool](repeating: false, count: graph.nodes.count)
        for index in losses { marks[index] = true }
        for index in stride(from: graph.nodes.count - 1, through: 0, by: -1) where marks[index] {
            for input in graph.nodes[index].inputs { marks[input.node] = true }
        }
        return marks
    }
}
