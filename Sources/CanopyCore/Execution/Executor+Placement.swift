/// Planning's placements: values computed straight into views of a larger buffer (the gathered values, stacks of
/// parameters and their gradients) instead of buffers of their own.
extension Executor {
    /// Lays out ``gathered`` and places each value that a kernel of its own computes (not an alias's source
    /// shared with another gathered value, a parameter, an input or a value placed elsewhere) in its view.
    /// Returns the indices of the values to copy into place instead.
    func placeGathered(_ values: [Value], root: [Value: Value]) throws -> [Int] {
        guard !values.isEmpty else { return [] }
        var layout = try GatheredValues(values: values, counts: values.map { max(graph.count(of: $0), 1) },
                                        backend: backend)
        var copied: [Int] = []
        var makesViews = true
        for (index, value) in values.enumerated() {
            let owner = root[value] ?? value
            guard makesViews, isPooled(owner), placed[owner] == nil,
                  graph.count(of: owner) == graph.count(of: value), graph.count(of: value) >= 1 else {
                copied.append(index)
                continue
            }
            do {
                placed[owner] = try backend.makeView(of: layout.buffer, offset: layout.offsets[index], count: layout.counts[index])
            } catch BackendError.unsupportedKernel {
                makesViews = false
                copied.append(index)
            }
        }
        layout.copiedCount = copied.count
        gathered = layout
        return copied
    }

    /// Stacks of parameters, and their gradients, that can be views of the arenas instead of copies: a
    /// concatenation along axis 0 of parameters lying end to end in the parameter arena becomes a view of it; a
    /// value read only by axis-0 slices that are placed gradients tiling it in arena order is placed in the
    /// gradient arena, and the slices become views. Records the views in ``placed`` and returns the nodes whose
    /// kernels are no longer needed.
    func arenaViews(order: [Int], root: [Value: Value], readers: [Value: [Int]], gradientArena: GradientArena?,
                            gradientNames: [Value: String]) throws -> Set<Int> {
        var skipped = Set<Int>()
        func contiguous(_ names: [String], in layout: ArenaLayout) -> Bool {
            zip(names, names.dropFirst()).allSatisfy { layout.offsets[$1] == layout.offsets[$0]! + layout.counts[$0]! }
        }
        // Forward: stacked parameters.
        if let layout = parameters.layout, let arena = parameters.arena {
            for index in order {
                guard placed[Value(node: index)] == nil, let names = graph.stackedParameters(at: index),
                      names.allSatisfy({ layout.offsets[$0] != nil }),
                      contiguous(names, in: layout) else { continue }
                placed[Value(node: index)] = try backend.makeView(of: arena, offset: layout.offsets[names[0]]!,
                                                                 count: max(graph.count(of: Value(node: index)), 1))
                skipped.insert(index)
            }
        }
        // Backward: the gradient of a stack, sliced back into the parameters' gradients.
        if let gradientArena {
            let layout = gradientArena.layout
            for (stack, reading) in readers where root[stack] == nil && isPooled(stack) && placed[stack] == nil {
                let slices = reading.compactMap { index -> (index: Int, start: Int, length: Int, name: String)? in
                    guard case let .slice(axis: 0, start, length) = graph.nodes[index].op,
                          let name = gradientNames[Value(node: index)] else { return nil }
                    return (index, start, length, name)
                }.sorted { $0.start < $1.start }
                guard !slices.isEmpty, slices.count == reading.count else { continue }
                let rows = graph.shape(of: stack).first ?? 0, rowSize = graph.count(of: stack) / max(rows, 1)
                var next = 0
                let tiles = slices.allSatisfy { slice in
                    defer { next = slice.start + slice.length }
                    return slice.start == next && layout.offsets[slice.name] == layout.offsets[slices[0].name]! + slice.start * rowSize
                }
                guard tiles, next == rows, contiguous(slices.map(\.name), in: layout) else { continue }
                let view = try backend.makeView(of: gradientArena.buffer, offset: layout.offsets[slices[0].name]!,
                                                count: max(graph.count(of: stack), 1))
                placed[stack] = view
                gradientArenaOffsets[ObjectIdentifier(view)] = layout.offsets[slices[0].name]
                skipped.formUnion(slices.map(\.index))
            }
        }
        return skipped
    }
}
