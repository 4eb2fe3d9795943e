/// Where each of a list of tensors sits in one arena buffer: in the given order, each at a multiple of the
/// backend's view alignment. Parameters, their gradients and the optimizer's state share one layout, so that one
/// optimizer launch over the whole arenas updates every parameter. The gaps between tensors are zero in every
/// arena and stay zero: no kernel writes them, and every optimizer maps zeros to zeros.
public struct ArenaLayout: Sendable, Equatable {
    /// The tensors, in arena order.
    public let names: [String]
    /// Each tensor's first element in the arena, and its element count.
    public let offsets: [String: Int]
    public let counts: [String: Int]
    /// The arena's element count (the last tensor's end).
    public let count: Int

    /// Lays out tensors of `counts` (in `names` order) at multiples of `alignment` elements.
    public init(names: [String], counts: [String: Int], alignment: Int) {
        let step = max(1, alignment)
        var offsets: [String: Int] = [:], end = 0
        for name in names {
            let start = (end + step - 1) / step * step
            offsets[name] = start
            end = start + max(1, counts[name] ?? 1)
        }
        self.names = names
        self.offsets = offsets
        self.counts = counts.mapValues { max(1, $0) }
        count = max(end, 1)
    }

    /// A zero-filled arena on `backend` and a view of it per tensor; nil when the backend makes no views or its
    /// largest buffer (``MemoryLimitedBackend``) cannot hold the arena (the tensors then get buffers of their own).
    public func makeArena(on backend: Backend) throws -> (buffer: DeviceBuffer, views: [String: DeviceBuffer])? {
        if let limited = backend as? MemoryLimitedBackend,
           count * MemoryLayout<Float>.size > limited.memoryLimits.largestBufferBytes { return nil }
        let buffer = try backend.makeBuffer(count: count)
        var views: [String: DeviceBuffer] = [:]
        do {
            for name in names { views[name] = try backend.makeView(of: buffer, offset: offsets[name]!, count: counts[name]!) }
        } catch BackendError.unsupportedKernel {
            return nil
        }
        return (buffer, views)
    }
}

/// Gradients laid out like the parameter arena (``ParameterStore/layout``), each parameter's gradient a view of
/// one buffer. An executor planned with it (``Executor/init(graph:backend:parameters:outputs:mode:gradientArena:gradientValues:)``)
/// writes the gradients straight into it; an optimizer given exactly these views updates every parameter in one
/// launch.
public final class GradientArena {
    /// The whole arena.
    public let buffer: DeviceBuffer
    /// Each parameter's gradient, a view of ``buffer``.
    public let views: [String: DeviceBuffer]
    /// The layout (the parameter store's).
    public let layout: ArenaLayout

    /// Makes a zero-filled arena for `parameters`' layout; nil when the store has none.
    public init?(for parameters: ParameterStore) throws {
        guard let layout = parameters.layout, let made = try layout.makeArena(on: parameters.backend) else { return nil }
        self.layout = layout
        buffer = made.buffer
        views = made.views
    }

    /// Whether `gradients` holds exactly this arena's view for every parameter of the layout.
    public func isWhole(_ gradients: [String: DeviceBuffer]) -> Bool {
        layout.names.allSatisfy { name in gradients[name].map { $0 === views[name] } ?? false }
    }
}

extension Graph {
    /// Every stack of parameters concatenated along axis 0 (fused experts' weights and biases), in node order.
    public var parameterStacks: [[String]] { nodes.indices.compactMap(stackedParameters(at:)) }

    /// The parameters that node `index` stacks, in its order, when it is a concatenation along axis 0 of
    /// parameters only (fused experts' weights and biases); nil for any other node. The arena places such
    /// parameters together (``ParameterStore``) so that the stack can be a view of it (``Executor``).
    func stackedParameters(at index: Int) -> [String]? {
        let node = nodes[index]
        guard case .concat(axis: 0) = node.op, node.inputs.count > 1 else { return nil }
        let names = node.inputs.compactMap { input -> String? in
            if case let .parameter(name, _) = nodes[input.node].op { return name }
            return nil
        }
        return names.count == node.inputs.count ? names : nil
    }
}
