/// Gradient sums that products accumulate into.
///
/// Autodiff sums a value's gradient contributions with `add` nodes (``Autodiff``): a shared trunk's input
/// gradient is `dX = Σ_t dY_t · W_t`, one product per task head and an `add` per extra head; shared experts'
/// gradient is the sum of every task mixture's values gradient. Where one term of an `add` is computed by a
/// kernel that can accumulate — a plain product (`matmul`, not a fused layer: `C = A·B + 1·C`) or a mixture's
/// values gradient (`mixtureBackwardValues` with `accumulate`) — and read by nothing else, and the other term is
/// computed before it and read by nothing else, that kernel accumulates into the other term's buffer and the sum
/// *is* that buffer: one kernel call and one pass over the sum fewer per extra term. A sum of several terms
/// chains: each later term accumulates into the same buffer.
///
/// The sum's value and the product's value alias the accumulated term's buffer, which must be free to change:
/// a pooled value of its own (not a parameter, an input, an alias, an alias's source, a placed view or an output
/// of the plan); the sum must not be placed elsewhere. The result is the unfused sum up to rounding: the backends
/// add the previous C to the whole product, except where a product's depth is split into blocks.
struct ProductAccumulation {
    /// The values that share an accumulated term's buffer: each accumulating product's value and each sum's value,
    /// mapped to the term (the first one of a chain of sums).
    private(set) var aliases: [Value: Value] = [:]
    /// Product nodes that accumulate into their sum's buffer (`beta = 1`).
    private(set) var accumulating: Set<Int> = []
    /// Sum nodes the accumulation computes: they launch nothing.
    private(set) var sums: Set<Int> = []

    /// No accumulation (a plan that fuses nothing).
    init() {}

    /// Finds the sums among `order`'s nodes.
    ///
    /// - Parameters:
    ///   - readers: each value's reading nodes, one entry per read.
    ///   - isFree: whether a value may become a sum's buffer or be computed into one: pooled, not an alias or an
    ///     alias's source, not placed, not an output of the plan. A previous sum is a term like any other (an
    ///     intermediate sum the plan returns must keep its value, so the next term is added apart).
    ///   - isPlaced: whether a value has a placed buffer (a sum that is placed keeps its add).
    init(graph: Graph, order: [Int], readers: [Value: [Int]], isFree: (Value) -> Bool, isPlaced: (Value) -> Bool) {
        for index in order {
            let node = graph.nodes[index]
            guard case .binary(.add) = node.op, node.inputs.count == 2, node.inputs[0] != node.inputs[1],
                  !isPlaced(Value(node: index)) else { continue }
            for (term, product) in [(node.inputs[0], node.inputs[1]), (node.inputs[1], node.inputs[0])] {
                guard product.output == 0, Self.accumulates(graph.nodes[product.node].op), readers[product] == [index], isFree(product), !accumulating.contains(product.node),
                      readers[term] == [index], term.node < product.node, isFree(term) else { continue }
                let buffer = aliases[term] ?? term
                aliases[Value(node: index)] = buffer
                aliases[product] = buffer
                accumulating.insert(product.node)
                sums.insert(index)
                break
            }
        }
    }

    /// Whether an op's kernel can add its result to its output's contents instead of overwriting them.
    static func accumulates(_ op: Op) -> Bool {
        switch op {
        case .matmul, .mixtureBackwardValues: return true
        default: return false
        }
    }

    /// The call at node `index`, accumulating when the node is one of ``accumulating``.
    func kernel(_ kernel: PlannedKernel, at index: Int) -> PlannedKernel {
        guard accumulating.contains(index), case let .fixed(call) = kernel else { return kernel }
        switch call {
        case var .matmul(a, b, c, shape):
            shape.beta = 1
            return .fixed(.matmul(a: a, b: b, c: c, shape: shape))
        case let .mixtureBackwardValues(gates, dy, dValues, rows, experts, features, _):
            return .fixed(.mixtureBackwardValues(gates: gates, dy: dy, dValues: dValues, rows: rows, experts: experts,
                                                 features: features, accumulate: true))
        default:
            return kernel
        }
    }
}

extension PlannedKernel {
    /// Whether the call adds its result to its output's contents (a product or a mixture's values gradient
    /// computing a gradient sum in place of an add; see `ProductAccumulation`).
    public var accumulates: Bool {
        switch self {
        case let .fixed(.matmul(_, _, _, shape)): return shape.beta != 0
        case let .fixed(.mixtureBackwardValues(_, _, _, _, _, _, accumulate)): return accumulate
        default: return false
        }
    }
}
