import CanopyCore

/// The tuner's workloads and candidate lists.
extension CLTuner {
    /// Random values in [-1, 1) from a fixed seed (the same data for every candidate).
    static func randomValues(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
        }
    }

    /// One workload per matrix product shape, on shared random operands.
    func matmulWorkloads() throws -> [Workload] {
        let largest = matmulShapes.map { max($0.0 * $0.2, $0.2 * $0.1, $0.0 * $0.1) }.max() ?? 1
        let a = try backend.makeBuffer(CLTuner.randomValues(largest, seed: 1))
        let b = try backend.makeBuffer(CLTuner.randomValues(largest, seed: 2))
        return try matmulShapes.map { m, n, k, ta, tb in
            let c = try backend.makeBuffer(count: m * n)
            let shape = MatmulShape(m: m, n: n, k: k, transposeA: ta, transposeB: tb)
            let name = "matmul \(m)×\(n)×\(k)\(ta ? " Aᵀ" : "")\(tb ? " Bᵀ" : "")"
            // Sums of k products of values in [-1, 1): float32 rounding grows like √k.
            return Workload(name: name, output: c, count: m * n, tolerance: { _ in 1e-5 * Float(k) + 1e-4 },
                            enqueue: { try $0.execute(.matmul(a: a, b: b, c: c, shape: shape)) })
        }
    }

    /// A sum and a sum of squares of `vectorCount` values.
    func reduceWorkloads() throws -> [Workload] {
        let x = try backend.makeBuffer(CLTuner.randomValues(vectorCount, seed: 3).map { $0 * 0.5 + 0.5 })
        let count = vectorCount
        return try [false, true].map { squares in
            let y = try backend.makeBuffer(count: 1)
            return Workload(name: "\(squares ? "sum of squares" : "sum") of \(count)", output: y, count: 1,
                            tolerance: { 1e-5 * abs($0[0]) + 1e-3 },
                            enqueue: { try $0.execute(squares ? .sumOfSquares(x: x, y: y, count: count) : .sum(x: x, y: y, count: count)) })
        }
    }

    /// An addition and a ReLU of `vectorCount` values (exact: the work-group size changes no arithmetic).
    func elementwiseWorkloads() throws -> [Workload] {
        let count = vectorCount
        let a = try backend.makeBuffer(CLTuner.randomValues(count, seed: 4))
        let b = try backend.makeBuffer(CLTuner.randomValues(count, seed: 5))
        let y = try backend.makeBuffer(count: count), z = try backend.makeBuffer(count: count)
        return [
            Workload(name: "add \(count)", output: y, count: count, tolerance: { _ in 0 },
                     enqueue: { try $0.execute(.binary(.add, a: a, b: b, y: y, count: count)) }),
            Workload(name: "relu \(count)", output: z, count: count, tolerance: { _ in 0 },
                     enqueue: { try $0.execute(.unary(.relu, x: a, y: z, count: count)) }),
        ]
    }

    // MARK: Candidates (each group starts from the choice in force, `t`)

    /// Register-blocked products with each MM_TM × MM_TN block, then (CPU choices, where `canopy_matmul_nt` runs
    /// the products of a stored n×k B) each MMNT_TM × MMNT_TN block and load width of the dot products.
    static func registerBlocks(from t: CLTunables) -> [CLTunables] {
        let blocks = [(4, 4), (4, 8), (8, 4), (8, 8), (4, 16), (8, 16)].map { rows, columns in
            var c = t
            c.matmulTiled = false; c.matmulRows = rows; c.matmulColumns = columns
            return c
        }
        guard !t.gpuStyle else { return blocks }
        return blocks + [(4, 4, 16), (4, 4, 8), (8, 4, 16), (2, 4, 16), (4, 8, 8)].map { rows, columns, vector in
            var c = t
            c.matmulTiled = false; c.matmulNTRows = rows; c.matmulNTColumns = columns; c.matmulNTVector = vector
            return c
        }
    }

    /// Register-blocked products with each work-group shape the device allows.
    static func workGroups(from t: CLTunables, info: OpenCLDeviceInfo) -> [CLTunables] {
        [(1, 1), (4, 4), (8, 4), (8, 8), (16, 8), (16, 16), (32, 8)].compactMap { x, y in
            guard x * y <= info.maxWorkGroupSize else { return nil }
            var c = t
            c.matmulTiled = false; c.matmulGroupX = x; c.matmulGroupY = y
            return c
        }
    }

    /// The register-blocked products in force against the local-memory tiled ones with each tile that fits.
    static func matmulKernels(from t: CLTunables, info: OpenCLDeviceInfo) -> [CLTunables] {
        var register = t
        register.matmulTiled = false
        return [register] + CLTunables.tileCandidates.filter { CLTunables.tileFits($0, info: info) }.map { tile in
            var c = t
            c.matmulTiled = true
            (c.tileRows, c.tileColumns, c.tileDepth, c.tileWorkRows, c.tileWorkColumns) = tile
            return c
        }
    }

    /// Reductions with each power-of-two work-group (64 up to the device's limits) and vector width.
    static func reductions(from t: CLTunables, info: OpenCLDeviceInfo) -> [CLTunables] {
        let localFloats = max(64, info.localMemorySize / 4 / 4)
        return [64, 128, 256, 512].filter { $0 <= min(info.maxWorkGroupSize, localFloats) }.flatMap { group in
            [4, 8, 16].map { vector in
                var c = t
                c.reduceGroup = group; c.reduceVector = vector
                return c
            }
        }
    }

    /// Element-wise kernels with each power-of-two work-group from 32 up to the device's limit (at most 1024).
    static func elementwiseGroups(from t: CLTunables, info: OpenCLDeviceInfo) -> [CLTunables] {
        [32, 64, 128, 256, 512, 1024].filter { $0 <= info.maxWorkGroupSize }.map { group in
            var c = t
            c.elementwiseGroup = group
            return c
        }
    }

    /// The values a group varies, for people.
    static func label(_ t: CLTunables, group: String) -> String {
        switch group {
        case "reduction": return "group \(t.reduceGroup), float\(t.reduceVector)"
        case "element-wise": return "group \(t.elementwiseGroup)"
        default:
            return t.matmulTiled
                ? "tiled \(t.tileRows)×\(t.tileColumns)×\(t.tileDepth), \(t.tileWorkRows)×\(t.tileWorkColumns) per item"
                : "register \(t.matmulRows)×\(t.matmulColumns), NT \(t.matmulNTRows)×\(t.matmulNTColumns)×\(t.matmulNTVector), "
                    + "group \(t.matmulGroupX)×\(t.matmulGroupY)"
        }
    }
}
