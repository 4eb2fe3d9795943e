import CanopyCore

/// Embedding lookup and its gradient (embedding.cl), launched over (dim, tokens).
extension OpenCLBackend {
    func embedding(ids: DeviceBuffer, weight: DeviceBuffer, y: DeviceBuffer, tokens: Int, vocabulary: Int, dim: Int,
                   padding: Int) throws {
        let arguments = try bind(ids, weight, y) + [.int(tokens), .int(vocabulary), .int(dim), .int(padding)]
        try launchGrid(CLKernels.embedding, arguments, [dim, tokens])
    }

    /// Zeroes dWeight, then writes the rows the ids use (see the kernel's comment for the deterministic order).
    func embeddingBackward(ids: DeviceBuffer, dy: DeviceBuffer, dWeight: DeviceBuffer, tokens: Int, vocabulary: Int,
                           dim: Int, padding: Int) throws {
        try fill(y: dWeight, value: 0, count: vocabulary * dim)
        let arguments = try bind(ids, dy, dWeight) + [.int(tokens), .int(vocabulary), .int(dim), .int(padding)]
        try launchGrid(CLKernels.embeddingBackward, arguments, [dim, tokens])
    }

    /// Launches an element-wise kernel over a 1-, 2- or 3-D grid of `sizes` (dimension 0 the contiguous axis):
    /// a power-of-two work-group of at most `elementwiseGroup` work-items (and what the device allows for this
    /// kernel), filled along dimension 0 first.
    func launchGrid(_ signature: CLKernelSignature, _ arguments: [CLArgument], _ sizes: [Int]) throws {
        var room = try kernel(signature).powerOfTwoGroup(atMost: tunables.elementwiseGroup)
        let local = sizes.map { size -> Int in
            let side = min(room, OpenCLBackend.powerOfTwo(atMost: size))
            room /= side
            return side
        }
        try launch(signature, arguments, global: sizes, local: local)
    }
}
