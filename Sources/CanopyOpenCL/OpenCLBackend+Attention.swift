import CanopyCore

/// Batched matrix products, axis swaps and the causal mask (attention.cl).
extension OpenCLBackend {
    func batchedMatmul(a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer, batch: Int, shape s: MatmulShape) throws {
        let arguments = try bind(a, b, c) + [.int(batch), .int(s.m), .int(s.n), .int(s.k), .int(s.transposeA ? 1 : 0),
                                             .int(s.transposeB ? 1 : 0), .float(s.alpha), .float(s.beta)]
        try launchGrid(CLKernels.batchedMatmul, arguments, [s.n, s.m, batch])
    }

    func swapAxes(x: DeviceBuffer, y: DeviceBuffer, outer: Int, first: Int, second: Int, inner: Int) throws {
        let arguments = try bind(x, y) + [.int(outer), .int(first), .int(second), .int(inner)]
        try launchGrid(CLKernels.swapAxes, arguments, [outer * first * second * inner])
    }

    func causalMask(x: DeviceBuffer, y: DeviceBuffer, batch: Int, rows: Int, cols: Int, fill: Float) throws {
        let count = batch * rows * cols
        let arguments = try bind(x, y) + [.int(count), .int(rows), .int(cols), .float(fill)]
        try launchGrid(CLKernels.causalMask, arguments, [count])
    }
}
