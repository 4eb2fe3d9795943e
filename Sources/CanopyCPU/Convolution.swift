import CanopyCore
import CCPUKernels

// 2-D convolution (cross-correlation, zero padding, G channel groups) as im2col + sgemm per group; stride-1
// convolutions on the AVX-512 engine go over padded grids instead (Convolution+Grid.swift).
//
// Images are processed in batches of B consecutive images, B chosen from the geometry alone so that the column
// matrix stays under `columnBudget` floats and ConvPlan.cacheTarget. With C' = C/G channels and F' = F/G filters
// per group, for group g `col` is [K, B·P] with K = C'·KH·KW rows indexed (c, kh, kw) (c within the group) and
// B·P columns indexed (image, oh, ow); col[(c,kh,kw), (i,oh,ow)] = x[i, g·C' + c, oh·sh−ph+kh, ow·sw−pw+kw] or 0 outside the image.
// With W_g = weight rows g·F' ..< (g+1)·F' (an [F', K] matrix) and dOut_g the same rows of the output,
//   forward:         out_g[F', B·P]  = W_g · col
//   backward input:  dcol[K, B·P]    = W_gᵀ · dOut_g, scattered back by col2im into group g's channels
//   backward weight: dW_g[F', K]    += dOut_g · colᵀ   (beta = 0 for the first batch, 1 after)
// The [F, B·P] matrices are NCHW output planes regrouped; with B = 1 the output itself is used directly.

extension CPUBackend {
    /// The convolution; with an `epilogue`, each batch of images then gets `bias[f]` added to filter f's planes and
    /// the activation applied while it is in cache, by the kernels `biasAdd` and `unary` use (their bits).
    func conv2d(input: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer, geometry g: ConvGeometry,
                epilogue: (bias: UnsafePointer<Float>, activation: UnaryFunction?)? = nil) throws {
        try checkColumns(g, "conv2d")
        let x = reading(input)
        let w = reading(weight)
        let y = writing(output)
        if convolvesOverGrids(g, rows: g.groupFilters) { return conv2dOverGrids(x: x, w: w, y: y, geometry: g, epilogue: epilogue) }
        let plan = ConvPlan(g, columnBudget: columnBudget)
        let f = plan.groupFilters
        for first in stride(from: 0, to: g.batch, by: plan.batch) {
            let images = min(plan.batch, g.batch - first)
            let columns = images * plan.P
            // The product's rows are the output's channels; one image's output is that matrix already.
            let product = images == 1 ? y + first * plan.outputImageSize
                                      : scratch.floats(g.outChannels * columns, slot: .product)
            for group in 0..<g.groups {
                let col = scratch.floats(plan.K * columns, slot: .columns)
                im2col(x + first * plan.imageSize, images: images, group: group, g, plan, into: col)
                sgemm(transposeA: false, transposeB: false, m: f, n: columns, k: plan.K, alpha: 1,
                      a: w + group * f * plan.K, lda: plan.K, b: col, ldb: columns, beta: 0,
                      c: product + group * f * columns, ldc: columns)
            }
            if images > 1 { regroup(product, toImages: y + first * plan.outputImageSize, images: images, g, plan) }
            if let epilogue {
                let planes = y + first * plan.outputImageSize
                parallelRows(rows: images * g.outChannels, rowCost: plan.P) { rows in
                    for row in rows {
                        let plane = planes + row * plan.P
                        canopy_add_scalar(plane, epilogue.bias[row % g.outChannels], plane, plan.P)
                        if let activation = epilogue.activation {
                            CPUBackend.apply(activation, x: plane, y: plane, range: 0..<plan.P)
                        }
                    }
                }
            }
        }
    }

    func conv2dBackwardInput(dOutput: DeviceBuffer, weight: DeviceBuffer, dInput: DeviceBuffer,
                             geometry g: ConvGeometry) throws {
        try checkColumns(g, "conv2dBackwardInput")
        let dy = reading(dOutput)
        let w = reading(weight)
        let dx = writing(dInput)
        if convolvesOverGrids(g, rows: g.groupChannels) { return conv2dBackwardInputOverGrids(dy: dy, w: w, dx: dx, geometry: g) }
        let plan = ConvPlan(g, columnBudget: columnBudget)
        let f = plan.groupFilters
        for first in stride(from: 0, to: g.batch, by: plan.batch) {
            let images = min(plan.batch, g.batch - first)
            let columns = images * plan.P
            var dyBatch = UnsafePointer(dy + first * plan.outputImageSize)
            if images > 1 {
                let product = scratch.floats(g.outChannels * columns, slot: .product)
                regroup(fromImages: dyBatch, into: product, images: images, g, plan)
                dyBatch = UnsafePointer(product)
            }
            for group in 0..<g.groups {
                let col = scratch.floats(plan.K * columns, slot: .columns)
                sgemm(transposeA: true, transposeB: false, m: plan.K, n: columns, k: f, alpha: 1,
                      a: w + group * f * plan.K, lda: plan.K, b: dyBatch + group * f * columns, ldb: columns,
                      beta: 0, c: col, ldc: columns)
                col2im(col, images: images, group: group, g, plan, into: dx + first * plan.imageSize)
            }
        }
    }

    func conv2dBackwardWeight(input: DeviceBuffer, dOutput: DeviceBuffer, dWeight: DeviceBuffer,
                              geometry g: ConvGeometry) throws {
        try checkColumns(g, "conv2dBackwardWeight")
        let x = reading(input)
        let dy = reading(dOutput)
        let dw = writing(dWeight)
        if convolvesOverGrids(g, rows: g.groupFilters) { return conv2dBackwardWeightOverGrids(x: x, dy: dy, dw: dw, geometry: g) }
        let plan = ConvPlan(g, columnBudget: columnBudget)
        let f = plan.groupFilters
        for first in stride(from: 0, to: g.batch, by: plan.batch) {
            let images = min(plan.batch, g.batch - first)
            let columns = images * plan.P
            var dyBatch = UnsafePointer(dy + first * plan.outputImageSize)
            if images > 1 {
                let product = scratch.floats(g.outChannels * columns, slot: .product)
                regroup(fromImages: dyBatch, into: product, images: images, g, plan)
                dyBatch = UnsafePointer(product)
            }
            for group in 0..<g.groups {
                let col = scratch.floats(plan.K * columns, slot: .columns)
                im2col(x + first * plan.imageSize, images: images, group: group, g, plan, into: col)
                sgemm(transposeA: false, transposeB: true, m: f, n: plan.K, k: columns, alpha: 1,
                      a: dyBatch + group * f * columns, lda: columns, b: col, ldb: columns,
                      beta: first == 0 ? 0 : 1, c: dw + group * f * plan.K, ldc: plan.K)
            }
        }
    }

    /// Throws unless one image's column matrix, (C/G)·KH·KW × OH·OW, has an element count without overflow (the
    /// contract has checked every other size).
    private func checkColumns(_ g: ConvGeometry, _ kernel: String) throws {
        let (rows, first) = g.groupChannels.multipliedReportingOverflow(by: g.kernelHeight * g.kernelWidth)
        let (_, second) = rows.multipliedReportingOverflow(by: g.outHeight * g.outWidth)
        guard !first, !second else { throw invalid(kernel, "the im2col matrix of one image overflows") }
    }
}

/// Sizes derived from a ``ConvGeometry`` once per call.
struct ConvPlan {
    /// Rows of one group's column matrix: (C/G)·KH·KW.
    let K: Int
    /// Output positions per image: OH·OW.
    let P: Int
    /// Input channels and filters per group.
    let groupChannels: Int, groupFilters: Int
    let imageSize: Int, outputImageSize: Int
    /// Images per batch: as many as fit `columnBudget` (and ``cacheTarget``) floats of columns, at least 1.
    let batch: Int

    /// Column floats per batch the plan aims at below the budget: 1 Mi floats (4 MiB) stay in a last-level
    /// cache between im2col writing them and sgemm reading them (measured on W2's second convolution: 1 Mi
    /// took 0.8× the time of 4 Mi forward and backward, 512 Ki no better).
    static let cacheTarget = 1 << 20

    init(_ g: ConvGeometry, columnBudget: Int) {
        groupChannels = g.groupChannels
        groupFilters = g.groupFilters
        K = groupChannels * g.kernelHeight * g.kernelWidth
        P = g.outHeight * g.outWidth
        imageSize = g.inChannels * g.inHeight * g.inWidth
        outputImageSize = g.outChannels * P
        batch = max(1, min(g.batch, min(columnBudget, ConvPlan.cacheTarget) / max(K * P, 1)))
    }
}
