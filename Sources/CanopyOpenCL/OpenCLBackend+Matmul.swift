import CanopyCore

/// One (possibly batched) product for the matmul kernels: matrix `b` of the batch starts at `offset + b·stride`.
struct MatrixOperand {
    var buffer: CLBuffer
    var offset = 0
    var stride = 0
}

extension MatrixOperand {
    /// The arguments every product kernel of matmul.cl takes, in its order: sizes, scales, the three operands with
    /// their offsets and batch strides, and the epilogue's four.
    static func productArguments(m: Int, n: Int, k: Int, alpha: Float, beta: Float, a: MatrixOperand, b: MatrixOperand,
                                 c: MatrixOperand, epilogue: ProductEpilogue?) -> [CLArgument] {
        [.int(m), .int(n), .int(k), .float(alpha), .float(beta),
         .buffer(a.buffer), .int(a.offset), .int(a.stride),
         .buffer(b.buffer), .int(b.offset), .int(b.stride),
         .buffer(c.buffer), .int(c.offset), .int(c.stride)] + ProductEpilogue.arguments(epilogue, c: c)
    }
}

/// What a product does to each element of C as it stores it (matmul.cl's epilogue): add the bias of its column
/// (a dense layer) or of its row (a convolution's filter), then apply `activation`.
struct ProductEpilogue {
    var bias: CLBuffer
    var activation: UnaryFunction?
    /// Whether row i of C takes `bias[i]` (a convolution's output, filters × positions) rather than column j `bias[j]`.
    var byRow = false
    /// Where product b of a batch finds its bias: at `offset + b · stride`.
    var offset = 0, stride = 0

    /// The `epilogue` argument of the matmul kernels: matmul.cl's `activation_f` code (``UnaryFunction/clCode``,
    /// 0 the bias only), plus matmul.cl's EPILOGUE_ROW_BIAS (16) for a bias by row.
    var code: Int { (activation?.clCode ?? 0) + (byRow ? 16 : 0) }

    /// The kernels' last four arguments (`bias`, `biasOffset`, `biasStride`, `epilogue`): with no epilogue, C stands
    /// in for the bias, which is never read.
    static func arguments(_ epilogue: ProductEpilogue?, c: MatrixOperand) -> [CLArgument] {
        guard let epilogue else { return [.buffer(c.buffer), .int(0), .int(0), .int(-1)] }
        return [.buffer(epilogue.bias), .int(epilogue.offset), .int(epilogue.stride), .int(epilogue.code)]
    }
}

extension UnaryFunction {
    /// The function's code in the kernels that take one as an argument (matmul.cl's `activation_f`,
    /// elementwise.cl's `derivative_f`); 0 means none.
    var clCode: Int {
        switch self {
        case .relu: return 1
        case .sigmoid: return 2
        case .tanh: return 3
        case .gelu: return 4
        case .silu: return 5
        }
    }
}

/// Matrix products (matmul.cl).
extension OpenCLBackend {
    func matmul(a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer, shape s: MatmulShape) throws {
        try matmul(a: a, b: b, c: c, shape: s, epilogue: nil)
    }

    /// `C = f(op(A) · op(B) + bias)` in one product (see ``Kernel/matmulBias(a:b:bias:c:shape:activation:)``).
    func matmulBias(a: DeviceBuffer, b: DeviceBuffer, bias: DeviceBuffer, c: DeviceBuffer, shape s: MatmulShape,
                    activation: UnaryFunction?) throws {
        try matmul(a: a, b: b, c: c, shape: s, epilogue: ProductEpilogue(bias: try own(bias), activation: activation))
    }

    private func matmul(a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer, shape s: MatmulShape,
                        epilogue: ProductEpilogue?) throws {
        let left = try own(a)
        var right = try own(b)
        let out = try own(c)
        if try usesTiledMatmul() {
            // The tiled kernels read a stored n×k B directly.
            return try enqueueTiledMatmul(transposeA: s.transposeA, transposeB: s.transposeB, m: s.m, n: s.n, k: s.k,
                                          alpha: s.alpha, beta: s.beta, a: MatrixOperand(buffer: left),
                                          b: MatrixOperand(buffer: right), c: MatrixOperand(buffer: out),
                                          epilogue: epilogue)
        }
        if s.transposeB && !s.transposeA && !tunables.gpuStyle {
            // CPU drivers: A (m×k) and B (n×k) are both contiguous along k; dot products, no transpose pass.
            return try enqueueMatmulNT(m: s.m, n: s.n, k: s.k, alpha: s.alpha, beta: s.beta,
                                       a: MatrixOperand(buffer: left), b: MatrixOperand(buffer: right),
                                       c: MatrixOperand(buffer: out), epilogue: epilogue)
        }
        if s.transposeB {
            // B is stored n×k; the kernels below want it k×n with contiguous rows.
            let transposed = try scratchBuffer(ScratchSlot.transpose, count: s.k * s.n)
            try transpose(right, into: transposed, rows: s.n, cols: s.k)
            right = transposed
        }
        try enqueueMatmul(transposeA: s.transposeA, m: s.m, n: s.n, k: s.k, alpha: s.alpha, beta: s.beta,
                          a: MatrixOperand(buffer: left), b: MatrixOperand(buffer: right), c: MatrixOperand(buffer: out),
                          epilogue: epilogue)
    }

    /// Enqueues `batch` products `C_b = alpha · A_b · B_bᵀ + beta · C_b`, A stored m×k and B stored n×k, then
    /// `epilogue`, with `canopy_matmul_nt` (the register-blocked kernel for CPU drivers; each work-item a
    /// ``CLTunables/matmulNTRows`` × ``CLTunables/matmulNTColumns`` block of C).
    func enqueueMatmulNT(m: Int, n: Int, k: Int, alpha: Float, beta: Float, a: MatrixOperand, b: MatrixOperand,
                         c: MatrixOperand, batch: Int = 1, epilogue: ProductEpilogue? = nil) throws {
        let arguments = MatrixOperand.productArguments(m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, b: b, c: c,
                                                       epilogue: epilogue)
        let columns = (n + tunables.matmulNTColumns - 1) / tunables.matmulNTColumns
        let rows = (m + tunables.matmulNTRows - 1) / tunables.matmulNTRows
        // The register-blocked kernels' one work-group shape (compiled once; work-items past the edge return).
        try launch(CLKernels.matmulNt, arguments, global: [columns, rows, batch],
                   local: [tunables.matmulGroupX, tunables.matmulGroupY, 1])
    }

    /// `dst` (cols × rows) = transpose of `src` (rows × cols).
    func transpose(_ src: CLBuffer, into dst: CLBuffer, rows: Int, cols: Int) throws {
        let arguments: [CLArgument] = [.buffer(src), .buffer(dst), .int(rows), .int(cols)]
        let tile = tunables.transposeTile
        // The tiled kernel needs exactly tile × tile work-items per group.
        if tunables.gpuStyle, try kernel(CLKernels.transpose).maxWorkGroupSize >= tile * tile {
            try launch(CLKernels.transpose, arguments, global: [cols, rows], local: [tile, tile])
        } else {
            // One work-group shape for every size: a driver that compiles a kernel per work-group shape (PoCL)
            // compiles it once (the kernel checks bounds; the global size is rounded up to the group).
            try launch(CLKernels.transposeDirect, arguments, global: [rows, cols], local: [tunables.elementwiseGroup, 1])
        }
    }

    /// Enqueues `batch` products `C_b = alpha · op(A_b) · B_b + beta · C_b`, B stored k×n, then `epilogue`.
    func enqueueMatmul(transposeA: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
                       a: MatrixOperand, b: MatrixOperand, c: MatrixOperand, batch: Int = 1,
                       epilogue: ProductEpilogue? = nil) throws {
        if try usesTiledMatmul() {
            return try enqueueTiledMatmul(transposeA: transposeA, transposeB: false, m: m, n: n, k: k, alpha: alpha,
                                          beta: beta, a: a, b: b, c: c, batch: batch, epilogue: epilogue)
        }
        let arguments = MatrixOperand.productArguments(m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, b: b, c: c,
                                                       epilogue: epilogue)
        let columns = (n + tunables.matmulColumns - 1) / tunables.matmulColumns
        let rows = (m + tunables.matmulRows - 1) / tunables.matmulRows
        // One work-group shape for every matrix size: a driver that compiles a kernel per work-group shape (PoCL)
        // compiles each product kernel once instead of once per shape. Work-items past the edge return at once.
        try launch(transposeA ? CLKernels.matmulTn : CLKernels.matmulNn, arguments,
                   global: [columns, rows, batch], local: [tunables.matmulGroupX, tunables.matmulGroupY, 1])
    }
}

/// The local-memory tiled products (`canopy_matmul_tiled_*` in matmul.cl), chosen by ``CLTunables/matmulTiled``.
extension OpenCLBackend {
    /// The tiled kernel for a storage combination.
    static func tiledMatmulKernel(transposeA: Bool, transposeB: Bool) -> CLKernelSignature {
        switch (transposeA, transposeB) {
        case (false, false): return CLKernels.matmulTiledNn
        case (true, false): return CLKernels.matmulTiledTn
        case (false, true): return CLKernels.matmulTiledNt
        case (true, true): return CLKernels.matmulTiledTt
        }
    }

    /// Whether products use the tiled kernels: asked for by the tunables, and the compiled kernel accepts the
    /// tile's work-group (a kernel's limit can be below the device's; then the register-blocked kernels run).
    func usesTiledMatmul() throws -> Bool {
        guard tunables.matmulTiled else { return false }
        let group = tunables.tileGroup
        return try kernel(CLKernels.matmulTiledNn).maxWorkGroupSize >= group.x * group.y
    }

    /// Enqueues `batch` products `C_b = alpha · op(A_b) · op(B_b) + beta · C_b` with the tiled kernels: one
    /// work-group per TSM × TSN tile of C, exactly the work-group shape the kernel requires.
    func enqueueTiledMatmul(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
                            a: MatrixOperand, b: MatrixOperand, c: MatrixOperand, batch: Int = 1,
                            epilogue: ProductEpilogue? = nil) throws {
        let arguments = MatrixOperand.productArguments(m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, b: b, c: c,
                                                       epilogue: epilogue)
        let group = tunables.tileGroup
        let tilesX = (n + tunables.tileColumns - 1) / tunables.tileColumns
        let tilesY = (m + tunables.tileRows - 1) / tunables.tileRows
        try launch(OpenCLBackend.tiledMatmulKernel(transposeA: transposeA, transposeB: transposeB), arguments,
                   global: [tilesX * group.x, tilesY * group.y, batch], local: [group.x, group.y, 1])
    }
}
