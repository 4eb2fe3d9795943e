import CanopyCore
import CCPUKernels
import CCBLAS
import Foundation

/// Canopy's reference backend: every ``Kernel`` in Swift on the host, matrix products through Canopy's AVX-512
/// SGEMM (CGemm) or CBLAS (OpenBLAS), see ``matrixProductEngine``.
///
/// Kernels run synchronously inside ``execute(_:)``. Large element-wise and row-wise work is split into chunks
/// whose boundaries depend only on the sizes (never on the number of threads), and partial sums are combined
/// in a fixed order, so results are bit-for-bit reproducible. Outputs must not alias inputs: a call that
/// passes the same buffer as an input and an output throws ``BackendError/invalidArguments(kernel:reason:)``.
///
/// The backend owns scratch memory (im2col columns for convolutions, partial sums) that it reuses between
/// calls; like every backend it must be called from one thread at a time.
public final class CPUBackend: Backend {
    /// Always `cpu`.
    public let name = "cpu"
    /// The number of threads kernels spread their work over.
    public let threads: Int
    let scratch = ScratchArena()
    /// Upper bound, in floats, on a convolution's scratch: a batch is unfolded this many floats' worth of images
    /// at a time into im2col columns, or (stride 1) laid into that many floats of padded grids and their products
    /// at once (always at least one image, which may exceed it).
    public let columnBudget: Int
    /// Which single-threaded SGEMM the matrix products run on, chosen at creation (see ``CPUMatrixProductEngine``).
    public let matrixProductEngine: CPUMatrixProductEngine
    /// Stride-1 convolutions run over padded grids (Convolution+Grid.swift) where the engine allows; tests turn
    /// this off to check them against the im2col path.
    var convolutionGrids = true

    /// Creates a CPU backend.
    /// - Parameters:
    ///   - threads: worker threads for large kernels; defaults to `CANOPY_CPU_THREADS` when set to a whole number,
    ///     else the active processor count (`canopy train` under `mpirun` sets it to the cores each process of the
    ///     machine gets). Values below 1 are treated as 1. The thread count never changes results. OpenBLAS itself is set to one thread (process-wide):
    ///     large matrix products are split into pieces spread over these threads instead (see
    ///     ``blasThreadingThreshold``), so BLAS's own threads never wake or spin between small products.
    ///   - columnBudget: the most floats of convolution scratch (im2col columns, or grids) to use at once, 16 MiB by default.
    public init(threads: Int? = nil, columnBudget: Int = 1 << 22) {
        let asked = ProcessInfo.processInfo.environment["CANOPY_CPU_THREADS"].flatMap { Int($0) }
        self.threads = max(1, threads ?? asked ?? ProcessInfo.processInfo.activeProcessorCount)
        self.columnBudget = max(1, columnBudget)
        self.matrixProductEngine = CPUMatrixProductEngine.chosen()
        openblas_set_num_threads(1)
    }

    /// `CPU, N threads (AVX-512 kernels, AVX-512 sgemm)`: threads, the vector instructions of the element-wise
    /// kernels, the matrix products' engine (`OpenBLAS sgemm` without AVX-512 or with `CANOPY_CPU_GEMM=openblas`).
    public var deviceDescription: String {
        "CPU, \(threads) thread\(threads == 1 ? "" : "s") (\(CPUBackend.vectorInstructions) kernels, \(matrixProductEngine.title) sgemm)"
    }

    /// The vector instructions the element-wise and optimizer kernels run on: `AVX-512`, `AVX2` or `baseline`
    /// (SSE2 on x86-64), the widest the processor and operating system support.
    public static var vectorInstructions: String {
        switch canopy_vectors_in_use() {
        case canopy_vectors_avx512: return "AVX-512"
        case canopy_vectors_avx2: return "AVX2"
        default: return "baseline"
        }
    }

    /// Allocates a zero-filled ``CPUBuffer`` of `count` floats; throws
    /// ``BackendError/invalidArguments(kernel:reason:)`` when `count` is below 1.
    public func makeBuffer(count: Int) throws -> DeviceBuffer {
        guard count >= 1 else {
            throw BackendError.invalidArguments(kernel: "makeBuffer", reason: "count must be at least 1, got \(count)")
        }
        return CPUBuffer(count: count)
    }

    /// Copies `values` into `buffer` from element `offset` at once; throws when they do not fit.
    public func upload(_ values: UnsafeBufferPointer<Float>, to buffer: DeviceBuffer, offset: Int) throws {
        let target = try cpuBuffer(buffer)
        guard offset >= 0, offset + values.count <= target.count else {
            throw BackendError.invalidArguments(kernel: "upload", reason:
                "\(values.count) values at offset \(offset) do not fit a buffer of \(target.count)")
        }
        guard let base = values.baseAddress, !values.isEmpty else { return }
        (target.pointer + offset).update(from: base, count: values.count)
    }

    /// Copies `destination.count` floats from element `offset` of `buffer`; throws when the range exceeds the buffer.
    public func download(_ buffer: DeviceBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let source = try cpuBuffer(buffer)
        guard offset >= 0, offset + destination.count <= source.count else {
            throw BackendError.invalidArguments(kernel: "download", reason:
                "\(destination.count) values at offset \(offset) exceed a buffer of \(source.count)")
        }
        guard let base = destination.baseAddress, !destination.isEmpty else { return }
        base.update(from: source.pointer + offset, count: destination.count)
    }

    /// A buffer sharing elements `offset ..< offset + count` of `buffer`'s memory; throws when they exceed it.
    public func makeView(of buffer: DeviceBuffer, offset: Int, count: Int) throws -> DeviceBuffer {
        let base = try cpuBuffer(buffer)
        guard offset >= 0, count >= 1, offset + count <= base.count, offset % viewAlignment == 0 else {
            throw BackendError.invalidArguments(kernel: "makeView", reason:
                "\(count) elements at offset \(offset) are not an aligned range of a buffer of \(base.count)")
        }
        return CPUBuffer(viewOf: base, offset: offset, count: count)
    }

    /// 16 elements (64 bytes, a cache line), so that every view starts where vector loads are fastest.
    public var viewAlignment: Int { 16 }

    /// Does nothing: every kernel has finished when ``execute(_:)`` returns.
    public func synchronize() throws {}

    /// Casts a buffer to this backend's type, or throws ``BackendError/foreignBuffer(backend:)``.
    func cpuBuffer(_ buffer: DeviceBuffer) throws -> CPUBuffer {
        guard let cpu = buffer as? CPUBuffer else { throw BackendError.foreignBuffer(backend: name) }
        return cpu
    }
}
