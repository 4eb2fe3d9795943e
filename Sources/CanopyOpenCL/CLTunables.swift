/// Kernel tunables chosen from the device's limits, passed to the compiler as `-D` options (each kernel file
/// declares them with `#ifndef NAME / #define NAME default`) and used by the host for launch sizes.
struct CLTunables {
    /// Whether the GPU choices below were made (many work-items, small register blocks, tiled transposes).
    var gpuStyle: Bool
    /// Rows and columns of C each matmul work-item computes (a register block), and the work-group shape.
    var matmulRows: Int, matmulColumns: Int, matmulGroupX: Int, matmulGroupY: Int
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

    init(device: CLDevice, profile: OpenCLTuningProfile) {
        let info = device.info
        switch profile {
        case .automatic: gpuStyle = device.isGPU
        case .cpu: gpuStyle = false
        case .gpu: gpuStyle = true
        }
        let maxGroup = info.maxWorkGroupSize
        func powerOfTwo(atMost limit: Int) -> Int {
            var size = 1
            while size * 2 <= limit { size *= 2 }
            return size
        }
        if gpuStyle {
            // Many threads with small register blocks; work-groups of 16×8.
            matmulRows = 4; matmulColumns = 4
            matmulGroupX = min(16, powerOfTwo(atMost: maxGroup)); matmulGroupY = max(1, min(8, maxGroup / matmulGroupX))
            rowTeamThreshold = 32
            rowTeamMaximum = 256
            reduceVector = 4
            elementwiseGroup = powerOfTwo(atMost: min(256, maxGroup))
        } else {
            // CPU drivers (PoCL) vectorise across a register block: 8×16 per work-item, float16 loads.
            matmulRows = 8; matmulColumns = 16
            matmulGroupX = min(4, powerOfTwo(atMost: maxGroup)); matmulGroupY = max(1, min(4, maxGroup / matmulGroupX))
            rowTeamThreshold = 64
            rowTeamMaximum = 16
            reduceVector = 16
            elementwiseGroup = powerOfTwo(atMost: min(256, maxGroup))
        }
        // Local arrays of reduceGroup / rowTeam floats must fit in local memory with room to spare.
        let localFloats = max(64, info.localMemorySize / 4 / 4)
        reduceGroup = powerOfTwo(atMost: min(256, maxGroup, localFloats))
        rowTeam = reduceGroup
        transposeTile = maxGroup >= 256 ? 16 : powerOfTwo(atMost: Int(Double(maxGroup).squareRoot()))
    }

    /// The `-D` options for one kernel file.
    func options(for file: CLKernelFile) -> String {
        let defines: [String: Int]
        switch file {
        case .matmul:
            defines = ["MM_TM": matmulRows, "MM_TN": matmulColumns, "TRANSPOSE_TILE": transposeTile]
        case .reduce:
            defines = ["REDUCE_WG": reduceGroup, "REDUCE_VEC": reduceVector]
        case .softmax, .loss, .elementwise, .mixture, .norm:
            defines = ["ROW_TEAM_WG": rowTeam]
        case .conv, .optimizer, .pool:
            defines = [:]
        case .embedding, .attention:
            defines = [:]
        }
        let list = defines.keys.sorted().map { "-D\($0)=\(defines[$0]!)" }
        return (["-cl-std=CL1.2"] + list).joined(separator: " ")
    }
}
