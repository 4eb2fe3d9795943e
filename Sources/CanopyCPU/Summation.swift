/// Float32 summation with an error that grows like log(n), not n.
///
/// Terms are added in blocks of 64 (8 interleaved accumulators, combined in a fixed tree), and block sums are
/// combined pairwise with a binary-counter stack, which is exactly a balanced pairwise tree over the blocks.
/// The order depends only on `count`, so the result is deterministic.
@inline(__always)
func pairwiseSum(count: Int, _ term: (Int) -> Float) -> Float {
    pairwiseBlocks(count: count, zero: 0, add: +) { start, end in
        var lanes = SIMD8<Float>()
        var i = start
        while i + 8 <= end {
            lanes += SIMD8(term(i), term(i + 1), term(i + 2), term(i + 3),
                           term(i + 4), term(i + 5), term(i + 6), term(i + 7))
            i += 8
        }
        var tail: Float = 0
        while i < end { tail += term(i); i += 1 }
        let half = lanes.lowHalf + lanes.highHalf, quarter = half.lowHalf + half.highHalf
        var sum = quarter[0] + quarter[1]
        sum += tail
        return sum
    }
}

/// The pairwise tree over blocks of 64 terms both sums share: `blockSum(start, end)` sums one block, and block
/// sums are combined with `add` on a binary-counter stack (exactly a balanced pairwise tree over the blocks).
@inline(__always)
func pairwiseBlocks<Sum>(count: Int, zero: Sum, add: (Sum, Sum) -> Sum, _ blockSum: (Int, Int) -> Sum) -> Sum {
    let block = 64
    // stack[i] holds the sum of 2^levels[i] blocks; at most 64 levels for any Int count.
    return withUnsafeTemporaryAllocation(of: Sum.self, capacity: 64) { stack in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { levels in
            var depth = 0
            var start = 0
            while start < count {
                let end = min(count, start + block)
                var sum = blockSum(start, end)
                var level = 0
                while depth > 0 && levels[depth - 1] == level {
                    depth -= 1
                    sum = add(stack[depth], sum)
                    level += 1
                }
                stack[depth] = sum
                levels[depth] = level
                depth += 1
                start = end
            }
            var total = zero
            while depth > 0 {
                depth -= 1
                total = add(stack[depth], total)
            }
            return total
        }
    }
}

/// `Σ x[i]` for `i < count`, pairwise.
func pairwiseSum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    pairwiseSum(count: count) { x[$0] }
}

extension CPUBackend {
    /// A pairwise sum that uses all threads for long inputs: fixed chunks of ``sumChunk`` terms are summed in
    /// parallel, then the chunk sums pairwise, so the result depends only on `count`.
    @inline(__always)
    func parallelSum(count: Int, _ term: (Int) -> Float) -> Float {
        let chunk = CPUBackend.sumChunk
        if count <= chunk { return pairwiseSum(count: count, term) }
        let chunks = (count + chunk - 1) / chunk
        let partials = scratch.floats(chunks, slot: .partialSums)
        parallelFor(chunks: chunks) { index in
            let start = index * chunk
            let length = min(chunk, count - start)
            partials[index] = pairwiseSum(count: length) { term(start + $0) }
        }
        return pairwiseSum(UnsafePointer(partials), count: chunks)
    }

    /// ``parallelSum(count:_:)`` with each chunk's pairwise sum given by `chunkSum(start, length)` (a C kernel
    /// that sums as ``pairwiseSum(count:_:)`` does): the same chunks, the same tree over them.
    func parallelChunkSum(count: Int, _ chunkSum: (_ start: Int, _ length: Int) -> Float) -> Float {
        let chunk = CPUBackend.sumChunk
        if count <= chunk { return chunkSum(0, count) }
        let chunks = (count + chunk - 1) / chunk
        let partials = scratch.floats(chunks, slot: .partialSums)
        parallelFor(chunks: chunks) { index in
            let start = index * chunk
            partials[index] = chunkSum(start, min(chunk, count - start))
        }
        return pairwiseSum(UnsafePointer(partials), count: chunks)
    }

    /// Terms per chunk of ``parallelSum(count:_:)``.
    static let sumChunk = 1 << 16
}
