import CanopyCore

/// Embedding lookup and its gradient (embedding.cl), launched over (dim, tokens).
extension OpenCLBackend {
    func embedding(ids: DeviceBuffer, weight: DeviceBuffer, y: DeviceBuffer, tokens: Int, vocabulary: Int, dim: Int,
                   padding: Int) throws {
        let arguments = try bind(ids, weight, y) + [.int(tokens), .int(vocabulary), .int(dim), .int(padding)]
        try launchGrid(CLKernels.embedding, arguments, [dim, tokens])
    }

    /// The scratch slot of the embedding gradient's token links (2 floats per token).
    static let embeddingLinksSlot = 7

    /// Zeroes dWeight, links each token to the next one with its row, then writes the rows the ids use by following
    /// the links from each row's first token (embedding.cl explains the deterministic order and the costs).
    func embeddingBackward(ids: DeviceBuffer, dy: DeviceBuffer, dWeight: DeviceBuffer, tokens: Int, vocabulary: Int,
                           dim: Int, padding: Int) throws {
        try fill(y: dWeight, value: 0, count: vocabulary * dim)
        let links = try scratchBuffer(OpenCLBackend.embeddingLinksSlot, count: 2 * tokens)
        let source = try own(ids)
        try launchGrid(CLKernels.embeddingLinks, [.buffer(source), .buffer(links), .int(tokens), .int(vocabulary),
                                                  .int(padding)], [tokens])
        let arguments = [.buffer(source), .buffer(try own(dy)), .buffer(links), .buffer(try own(dWeight)),
                         .int(tokens), .int(vocabulary), .int(dim), .int(padding)] as [CLArgument]
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
