/// Kernel tunables, passed to the compiler as `-D` options (each kernel file declares them with
/// `#ifndef NAME / #define NAME default`) and used by the host for launch sizes.
///
/// The defaults come from the device's limits and type (``init(device:profile:)``); a tuning file written by
/// ``OpenCLBackend/tune(device:options:seconds:progress:)`` replaces them with measured choices (see
/// ``CLTuningFile``). Codable, so that the tuning file stores exactly these fields; ``problems(on:)`` checks a
/// decoded value against the device before it is used.
struct CLTunables: Codable, Equatable, Sendable {
    /// Whether the GPU choices below were made (many work-items, small register blocks, tiled transposes).
    var gpuStyle: Bool
    /// Rows and columns of C each matmul work-item computes (a register block), and the work-group shape.
    var matmulRows: Int, matmulColumns: Int, matmulGroupX: Int, matmulGroupY: Int
    /// `canopy_matmul_nt` (B stored n×k, on CPU drivers): rows and columns of C each work-item computes as dot
    /// products (`MMNT_TM` × `MMNT_TN`), and the floats it loads at once along k (`MMNT_V`: 4, 8 or 16).
    var matmulNTRows: Int, matmulNTColumns: Int, matmulNTVector: Int
    /// Whether matrix products use the local-memory tiled kernels (`canopy_matmul_tiled_*`) instead of the
    /// register-blocked ones.
    var matmulTiled: Bool
    /// The tiled kernels' work-group tile of C (`MMT_TSM` × `MMT_TSN`), its k-slice depth (`MMT_TSK`) and each
    /// work-item's block (`MMT_WPTM` × `MMT_WPTN`); the work-group is (TSN / WPTN) × (TSM / WPTM).
    var tileRows: Int, tileColumns: Int, tileDepth: Int, tileWorkRows: Int, tileWorkColumns: Int
    /// Side of the square tile the transpose kernel stages through local memory.
    var transposeTile: Int
    /// Work-group size of reductions (a power of two); also the local array size declared for them.
    var reduceGroup: Int
    /// Floats each reduction work-item loads at once (4, 8 or 16).
    var reduceVector: Int
    /// Capacity of the row kernels' local scratch (ROW_TEAM_WG): team size × rows per work-group.
    var rowTeam: Int
    /// Rows shorter than this get one work-item each; longer ones may get a team.
    var rowTeamThreshold: Int
    /// The largest team one row gets (on CPUs a team only pays when there are too few rows for the cores).
    var rowTeamMaximum: Int
    /// Work-group size of element-wise kernels.
    var elementwiseGroup: Int

    /// The tiled kernels' work-group: (columns, rows) of work-items.
    var tileGroup: (x: Int, y: Int) { (tileColumns / max(1, tileWorkColumns), tileRows / max(1, tileWorkRows)) }

    /// The defaults for `device`: GPU choices on GPUs (or when `profile` is `.gpu`), CPU choices otherwise.
    init(device: CLDevice, profile: OpenCLTuningProfile) {
        self.init(info: device.info, profile: profile)
    }

    /// The defaults for a device described by `info`.
    init(info: OpenCLDeviceInfo, profile: OpenCLTuningProfile) {
        switch profile {
        case .automatic: gpuStyle = info.type == "GPU"
        case .cpu: gpuStyle = false
        case .gpu: gpuStyle = true
        }
        let maxGroup = info.maxWorkGroupSize
        let powerOfTwo = CLTunables.powerOfTwo(atMost:)
        if gpuStyle {
            // Many threads with small register blocks; work-groups of 16×8.
            matmulRows = 4; matmulColumns = 4
            matmulGroupX = min(16, powerOfTwo(maxGroup)); matmulGroupY = max(1, min(8, maxGroup / matmulGroupX))
            matmulNTRows = 2; matmulNTColumns = 2; matmulNTVector = 4
            rowTeamThreshold = 32
            rowTeamMaximum = 256
            reduceVector = 4
            elementwiseGroup = powerOfTwo(min(256, maxGroup))
        } else {
            // CPU drivers (PoCL) vectorise across a register block: 8×16 per work-item, float16 loads.
            matmulRows = 8; matmulColumns = 16
            matmulGroupX = min(4, powerOfTwo(maxGroup)); matmulGroupY = max(1, min(4, maxGroup / matmulGroupX))
            // Dot products: 4×4 float16 accumulators plus 8 loads fit AVX-512's 32 vector registers.
            matmulNTRows = 4; matmulNTColumns = 4; matmulNTVector = 16
            rowTeamThreshold = 64
            rowTeamMaximum = 16
            reduceVector = 16
            elementwiseGroup = powerOfTwo(min(256, maxGroup))
        }
        // Local arrays of reduceGroup / rowTeam floats must fit in local memory with room to spare.
        let localFloats = max(64, info.localMemorySize / 4 / 4)
        reduceGroup = powerOfTwo(min(256, maxGroup, localFloats))
        rowTeam = reduceGroup
        transposeTile = maxGroup >= 256 ? 16 : powerOfTwo(Int(Double(maxGroup).squareRoot()))
        // GPUs: the first classic SGEMM tile that fits the device's work-group and local-memory limits.
        let tile = CLTunables.tileCandidates.first { CLTunables.tileFits($0, info: info) }
        (tileRows, tileColumns, tileDepth, tileWorkRows, tileWorkColumns) = tile ?? (32, 32, 8, 4, 4)
        matmulTiled = gpuStyle && tile != nil
    }

    /// Local-memory tiles (TSM, TSN, TSK, WPTM, WPTN), the default's first; the tuner times each that fits.
    static let tileCandidates: [(Int, Int, Int, Int, Int)] = [
        (64, 64, 16, 4, 4), (32, 32, 16, 4, 4), (64, 64, 8, 8, 8), (128, 128, 8, 8, 8), (32, 64, 16, 2, 4),
    ]

    /// Whether a tile's work-group fits the device's work-group limit and its two local arrays (TSK rows of
    /// TSM + 1 and TSN + 1 floats) fit three quarters of its local memory (room for the driver's own use).
    static func tileFits(_ t: (Int, Int, Int, Int, Int), info: OpenCLDeviceInfo) -> Bool {
        let (tsm, tsn, tsk, wptm, wptn) = t
        guard tsm >= 1, tsn >= 1, tsk >= 1, wptm >= 1, wptn >= 1, wptm <= 16, wptn <= 16,
              tsm % wptm == 0, tsn % wptn == 0 else { return false }
        let group = (tsm / wptm) * (tsn / wptn)
        return group <= info.maxWorkGroupSize && tsk * (tsm + tsn + 2) * 4 <= info.localMemorySize * 3 / 4
    }

    /// What makes these tunables unusable on `info`'s device (empty when they are usable): a decoded tuning
    /// file is checked with this before it replaces the defaults.
    func problems(on info: OpenCLDeviceInfo) -> [String] {
        var problems: [String] = []
        func isPowerOfTwo(_ v: Int) -> Bool { v >= 1 && v & (v - 1) == 0 }
        let maxGroup = info.maxWorkGroupSize
        if !(1...16).contains(matmulRows) { problems.append("matmulRows \(matmulRows) is not 1...16") }
        if ![4, 8, 16].contains(matmulColumns) { problems.append("matmulColumns \(matmulColumns) is not 4, 8 or 16") }
        if !(1...8).contains(matmulNTRows) || !(1...8).contains(matmulNTColumns) {
            problems.append("NT block \(matmulNTRows)×\(matmulNTColumns) is not within 1...8 × 1...8")
        }
        if ![4, 8, 16].contains(matmulNTVector) { problems.append("matmulNTVector \(matmulNTVector) is not 4, 8 or 16") }
        if matmulGroupX < 1 || matmulGroupY < 1 || matmulGroupX * matmulGroupY > maxGroup {
            problems.append("matmul work-group \(matmulGroupX)×\(matmulGroupY) exceeds the device's \(maxGroup)")
        }
        if !CLTunables.tileFits((tileRows, tileColumns, tileDepth, tileWorkRows, tileWorkColumns), info: info) {
            problems.append("tile \(tileRows)×\(tileColumns)×\(tileDepth) (\(tileWorkRows)×\(tileWorkColumns) per "
                + "work-item) does not fit the work-group limit \(maxGroup) or local memory \(info.localMemorySize)")
        }
        if !isPowerOfTwo(transposeTile) || transposeTile > 64 { problems.append("transposeTile \(transposeTile)") }
        let localFloats = max(64, info.localMemorySize / 4 / 4)
        if !isPowerOfTwo(reduceGroup) || reduceGroup > min(maxGroup, localFloats) {
            problems.append("reduceGroup \(reduceGroup) is not a power of two within the device's limits")
        }
        if ![4, 8, 16].contains(reduceVector) { problems.append("reduceVector \(reduceVector) is not 4, 8 or 16") }
        if !isPowerOfTwo(rowTeam) || rowTeam > min(maxGroup, localFloats) { problems.append("rowTeam \(rowTeam)") }
        if rowTeamThreshold < 1 || rowTeamMaximum < 1 { problems.append("row team sizes must be positive") }
        if !isPowerOfTwo(elementwiseGroup) || elementwiseGroup > maxGroup {
            problems.append("elementwiseGroup \(elementwiseGroup) is not a power of two up to \(maxGroup)")
        }
        return problems
    }

    static func powerOfTwo(atMost limit: Int) -> Int {
        var size = 1
        while size * 2 <= limit { size *= 2 }
        return size
    }

    /// The `-D` options for one kernel file.
    func options(for file: CLKernelFile) -> String {
        let defines: [String: Int]
        switch file {
        case .matmul:
            defines = ["MM_TM": matmulRows, "MM_TN": matmulColumns, "TRANSPOSE_TILE": transposeTile,
                       "MMT_TSM": tileRows, "MMT_TSN": tileColumns, "MMT_TSK": tileDepth,
                       "MMT_WPTM": tileWorkRows, "MMT_WPTN": tileWorkColumns,
                       "MMNT_TM": matmulNTRows, "MMNT_TN": matmulNTColumns, "MMNT_V": matmulNTVector]
        case .reduce:
            defines = ["REDUCE_WG": reduceGroup, "REDUCE_VEC": reduceVector]
        case .softmax, .loss, .elementwise, .mixture, .norm, .pool:   // pool.cl: canopy_row_mean's team
            defines = ["ROW_TEAM_WG": rowTeam]
        case .conv, .optimizer:
            defines = [:]
        case .embedding, .attention:
            defines = [:]
        }
        let list = defines.keys.sorted().map { "-D\($0)=\(defines[$0]!)" }
        return (["-cl-std=CL1.2"] + list).joined(separator: " ")
    }
}
