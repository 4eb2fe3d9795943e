import CCPUKernels

extension CPUBackend {
    /// Element count below which element-wise kernels stay on the calling thread, and the chunk size above it.
    static let elementGrain = 1 << 15

    /// Runs `body(chunk)` for every `chunk` in `0..<chunks`, spread over the backend's threads.
    ///
    /// Which thread runs a chunk is not fixed, so `body` must only write memory that belongs to its chunk;
    /// callers choose chunk boundaries from the sizes alone, which keeps results independent of scheduling. The
    /// threads are a process-wide pool that polls briefly between loops (`canopy_parallel_for`, CCPUKernels), since
    /// waking a sleeping thread for each of a step's short kernels costs as much as the second core gains.
    @inline(__always)
    func parallelFor(chunks: Int, _ body: (Int) -> Void) {
        let workers = min(threads, chunks)
        if workers <= 1 {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        runOnPool(chunks: chunks, threads: workers, body)
    }

    /// Runs `body(range)` over `0..<count` in ranges of `grain` elements (one range when `count ≤ 2·grain`).
    @inline(__always)
    func parallelRanges(count: Int, grain: Int = CPUBackend.elementGrain, _ body: (Range<Int>) -> Void) {
        if count <= 2 * grain {
            body(0..<count)
            return
        }
        let chunks = (count + grain - 1) / grain
        parallelFor(chunks: chunks) { chunk in
            body(chunk * grain..<min(count, (chunk + 1) * grain))
        }
    }

    /// Runs `body(rowRange)` over `rows` rows of `rowCost` elements each, grouping rows so that a chunk holds
    /// about ``elementGrain`` elements. Each row is processed by exactly one call.
    @inline(__always)
    func parallelRows(rows: Int, rowCost: Int, _ body: (Range<Int>) -> Void) {
        let rowsPerChunk = max(1, CPUBackend.elementGrain / max(rowCost, 1))
        parallelRanges(count: rows, grain: rowsPerChunk, body)
    }
}

/// `canopy_parallel_for` with a Swift closure: runs `body(chunk)` for every chunk in `0..<chunks` on up to
/// `threads` threads of the process-wide pool.
func runOnPool(chunks: Int, threads: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
        var work = body
        withUnsafeMutablePointer(to: &work) { pointer in
            canopy_parallel_for(chunks, threads, { context, chunk in
                context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(chunk)
            }, pointer)
        }
    }
}
