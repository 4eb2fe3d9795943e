import CanopyCore
import CGemm

// Stride-1 convolutions on Canopy's AVX-512 engine without a column matrix (Sources/CGemm/conv.c): each image's
// channels are laid into zero-padded grids and the product reads shifted windows of them as the rows of its
// im2col matrix, so nothing is unfolded or folded back.
//   forward:         grid = x padded by (PH, PW);  out_g = W_g · windows
//   backward input:  a forward convolution of dOut padded by (KH − 1 − PH, KW − 1 − PW) (cropped when negative)
//                    with the flipped, transposed weights W'[c, f, kh, kw] = W[f, c, KH − 1 − kh, KW − 1 − kw]
//   backward weight: dW_g = Σ_images dOut_g · windowsᵀ, over chunks of images fixed by the batch alone, each
//                    chunk's sum in its own partial, the partials added in chunk order (bits independent of
//                    the thread count).
// Work is spread as images per worker, and a worker's filters split further when there are fewer images (or
// chunks) than threads; canopy_sgemm gives a block of rows the bits of the whole product.

extension CPUBackend {
    /// Whether a pass of `g` whose product has `rows` rows (filters per group for the forward pass and the weight
    /// gradient, channels per group for the input gradient) runs over padded grids: stride 1 on the AVX-512 engine,
    /// and at least ``gridProductRows`` rows, else im2col and col2im. With fewer rows every window float packed
    /// for the product serves too few multiplications (a 1-channel input's gradient ran at 0.4× the columns).
    func convolvesOverGrids(_ g: ConvGeometry, rows: Int) -> Bool {
        convolutionGrids && matrixProductEngine == .avx512 && g.strideHeight == 1 && g.strideWidth == 1
            && rows >= CPUBackend.gridProductRows
    }

    /// Fewest product rows for the grid path: one full panel of the microkernel.
    static let gridProductRows = 12

    /// The forward pass over grids, with the epilogue's bias (and ReLU) as the product leaves its grid rows and any
    /// other activation on each worker's planes while they are in cache.
    func conv2dOverGrids(x: UnsafePointer<Float>, w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                         geometry g: ConvGeometry, epilogue: (bias: UnsafePointer<Float>, activation: UnaryFunction?)?) {
        var grid = CPUBackend.inputGrid(g)
        let imageSize = g.inChannels * g.inHeight * g.inWidth, planeSize = g.outHeight * g.outWidth
        // The bias (and ReLU) while the product is copied out of its grid rows; other activations after.
        let relu = epilogue?.activation == .relu
        let later = relu ? nil : epilogue?.activation
        correlateImages(grid: &grid, groups: g.groups, batch: g.batch, filters: g.groupFilters,
                        source: x, sourceImage: imageSize, weights: w, bias: epilogue?.bias, relu: relu, out: y,
                        outImage: g.outChannels * planeSize) { images in
            guard let later else { return }
            let planes = y + images.lowerBound * g.outChannels * planeSize
            CPUBackend.apply(later, x: planes, y: planes, range: 0..<images.count * g.outChannels * planeSize)
        }
    }

    /// The input gradient: dOut's grids correlated with the flipped, transposed weights.
    func conv2dBackwardInputOverGrids(dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                      dx: UnsafeMutablePointer<Float>, geometry g: ConvGeometry) {
        let c = g.groupChannels, f = g.groupFilters, kh = g.kernelHeight, kw = g.kernelWidth
        let flipped = scratch.floats(g.weightCount, slot: .product)
        // W'_group[c, (f, kh, kw)] = W[group·F' + f, c, KH − 1 − kh, KW − 1 − kw].
        for group in 0..<g.groups {
            for channel in 0..<c {
                for filter in 0..<f {
                    let source = w + ((group * f + filter) * c + channel) * kh * kw
                    let target = flipped + ((group * c + channel) * f + filter) * kh * kw
                    for i in 0..<kh * kw { target[i] = source[kh * kw - 1 - i] }
                }
            }
        }
        var grid = canopy_conv_grid(channels: f, sourceHeight: g.outHeight, sourceWidth: g.outWidth,
                                    top: kh - 1 - g.padHeight, left: kw - 1 - g.padWidth,
                                    gridHeight: g.inHeight + kh - 1, gridWidth: g.inWidth + kw - 1,
                                    kernelHeight: kh, kernelWidth: kw)
        correlateImages(grid: &grid, groups: g.groups, batch: g.batch, filters: c, source: dy,
                        sourceImage: g.outChannels * g.outHeight * g.outWidth, weights: flipped, bias: nil,
                        relu: false, out: dx, outImage: g.inChannels * g.inHeight * g.inWidth) { _ in }
    }

    /// The weight gradient over grids of the input, summed per chunk of images and the chunks in order.
    func conv2dBackwardWeightOverGrids(x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                       dw: UnsafeMutablePointer<Float>, geometry g: ConvGeometry) {
        var grid = CPUBackend.inputGrid(g)
        let k = g.groupChannels * g.kernelHeight * g.kernelWidth, filters = g.groupFilters
        let imageSize = g.inChannels * g.inHeight * g.inWidth
        let outImage = g.outChannels * g.outHeight * g.outWidth
        let gridFloats = canopy_conv_grid_floats(&grid)
        let work = GridWork(chunks: min(g.batch, CPUBackend.weightGradientChunks), rows: filters, threads: threads,
                            gridFloats: gridFloats, columns: canopy_conv_grid_columns(&grid), budget: columnBudget)
        let chunks = work.chunks, itemFloats = work.itemFloats
        let partials = chunks == 1 ? dw : scratch.floats(chunks * g.weightCount, slot: .partialSums)
        let floats = scratch.floats(work.items * itemFloats, slot: .columns)
        let pointers = scratch.pointers(work.items * k)
        parallelFor(chunks: work.items) { item in
            let (chunk, rows) = work.item(item)
            let planes = floats + item * itemFloats, padded = planes + gridFloats, windows = pointers + item * k
            let partial = partials + chunk * g.weightCount
            let images = GridWork.share(chunk, of: chunks, count: g.batch)
            for image in images {
                for group in 0..<g.groups {
                    canopy_conv_fill_grid(&grid, x + image * imageSize + group * g.groupChannels * g.inHeight * g.inWidth,
                                          planes, windows)
                    canopy_conv_weight_gradient(&grid, windows, dy + image * outImage + (group * filters + rows.lowerBound) * g.outHeight * g.outWidth,
                                                rows.count, padded, image == images.lowerBound ? 0 : 1,
                                                partial + (group * filters + rows.lowerBound) * k)
                }
            }
        }
        guard chunks > 1 else { return }
        parallelRanges(count: g.weightCount) { range in
            for i in range {
                var sum = partials[i]
                for chunk in 1..<chunks { sum += partials[chunk * g.weightCount + i] }
                dw[i] = sum
            }
        }
    }

    /// The grids of a group's input channels, padded by (PH, PW): the forward pass's and the weight gradient's.
    static func inputGrid(_ g: ConvGeometry) -> canopy_conv_grid {
        canopy_conv_grid(channels: g.groupChannels, sourceHeight: g.inHeight, sourceWidth: g.inWidth,
                         top: g.padHeight, left: g.padWidth, gridHeight: g.inHeight + 2 * g.padHeight,
                         gridWidth: g.inWidth + 2 * g.padWidth, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth)
    }

    /// Chunks of images a weight gradient sums apart (fixed, so the bits never depend on the thread count).
    static let weightGradientChunks = 8

    /// `out_g = weights_g · windows of source_g (+ bias, ReLU)` for every image and group, `finished(images)` after
    /// each worker's images (once for the whole batch after the loop when workers have only some of the filters).
    private func correlateImages(grid: inout canopy_conv_grid, groups: Int, batch: Int, filters: Int,
                                 source: UnsafePointer<Float>, sourceImage: Int, weights: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, relu: Bool, out: UnsafeMutablePointer<Float>,
                                 outImage: Int, finished: (Range<Int>) -> Void) {
        let channels = grid.channels, sourcePlane = grid.sourceHeight * grid.sourceWidth
        let k = channels * grid.kernelHeight * grid.kernelWidth
        let outPlane = (grid.gridHeight - grid.kernelHeight + 1) * (grid.gridWidth - grid.kernelWidth + 1)
        let gridFloats = canopy_conv_grid_floats(&grid)
        let work = GridWork(chunks: min(batch, threads), rows: filters, threads: threads, gridFloats: gridFloats,
                            columns: canopy_conv_grid_columns(&grid), budget: columnBudget)
        let chunks = work.chunks, itemFloats = work.itemFloats
        let floats = scratch.floats(work.items * itemFloats, slot: .columns)
        let pointers = scratch.pointers(work.items * k)
        let wholeImages = work.rowBlocks == 1
        let grid = grid
        parallelFor(chunks: work.items) { item in
            var grid = grid
            let (chunk, rows) = work.item(item)
            let planes = floats + item * itemFloats, product = planes + gridFloats, windows = pointers + item * k
            let images = GridWork.share(chunk, of: chunks, count: batch)
            for image in images {
                for group in 0..<groups {
                    canopy_conv_fill_grid(&grid, source + image * sourceImage + group * channels * sourcePlane,
                                          planes, windows)
                    let first = group * filters + rows.lowerBound
                    canopy_conv_correlate(&grid, windows, weights + first * k, rows.count, product,
                                          out + image * outImage + first * outPlane, bias.map { $0 + first },
                                          relu ? 1 : 0)
                }
            }
            if wholeImages { finished(images) }
        }
        if !wholeImages { finished(0..<batch) }
    }
}

/// How a grid pass's work is cut: `chunks` ranges of images, each split into `rowBlocks` blocks of the product's
/// rows (multiples of the kernel's 12 rows) when there are fewer chunks than threads; one item per (chunk, block),
/// each with scratch of its own (a grid and a row block's product). Items stay within the backend's column budget
/// (at least one): large images go fewer at a time, as the im2col path unfolds them.
struct GridWork {
    let chunks: Int, rowBlocks: Int, rowStep: Int, rows: Int
    /// Scratch floats of one item: its grid, then its row block's product (or padded dOut).
    let itemFloats: Int

    /// At most `chunks` chunks (fewer when the budget holds fewer items); never more items than threads want.
    init(chunks: Int, rows: Int, threads: Int, gridFloats: Int, columns: Int, budget: Int) {
        let fits = max(1, budget / max(gridFloats + rows * columns, 1))
        self.chunks = max(1, min(chunks, fits))
        self.rows = rows
        let wanted = self.chunks >= threads ? 1 : min((threads + self.chunks - 1) / self.chunks, max(1, fits / self.chunks))
        let step = ((rows + wanted - 1) / wanted + 11) / 12 * 12
        rowStep = max(step, 1)
        rowBlocks = (rows + rowStep - 1) / rowStep
        itemFloats = gridFloats + min(rowStep, rows) * columns
    }

    var items: Int { chunks * rowBlocks }

    /// Item `index`'s chunk and rows.
    func item(_ index: Int) -> (chunk: Int, rows: Range<Int>) {
        let block = index % rowBlocks
        return (index / rowBlocks, block * rowStep..<min(rows, (block + 1) * rowStep))
    }

    /// Part `part` of `parts` near-equal contiguous shares of `0..<count`.
    static func share(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        part * count / parts..<(part + 1) * count / parts
    }
}
