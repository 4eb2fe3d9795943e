import Canopy
import CCBLAS
import COpenCL
import Foundation

/// The reference libraries the kernel benchmarks run beside Canopy on the same sizes: OpenBLAS's `cblas_sgemm`
/// called directly (with all the machine's cores), and CLBlast's `CLBlastSgemm` on the OpenCL device Canopy uses.
protocol GEMMReference {
    /// `openblas`, `clblast`.
    var engine: String { get }
    /// The benchmark of one `C = op(A)·op(B)` of `shape`, row-major, on fresh buffers.
    func benchmark(title: String, shape: MatmulShape, work: Double, unit: (name: String, scale: Double)) throws -> Benchmark
}

/// Fills `count` floats with the same pattern Canopy's buffers get.
private func pattern(_ count: Int) -> [Float] { (0..<count).map { Float(($0 * 7919) % 1000) / 1000 - 0.5 } }

/// Row-major leading dimensions of op(A) = A or Aᵀ, op(B), C.
private func leadingDimensions(_ s: MatmulShape) -> (a: Int, b: Int, c: Int) {
    (s.transposeA ? s.m : s.k, s.transposeB ? s.k : s.n, s.n)
}

/// OpenBLAS's `cblas_sgemm`, called directly. Canopy's CPU backend sets OpenBLAS to one thread process-wide (it
/// splits large products over its own threads); these rows set it to `threads` while they run, then back to 1.
struct OpenBLASReference: GEMMReference {
    let engine = "openblas"
    let threads: Int

    func benchmark(title: String, shape s: MatmulShape, work: Double, unit: (name: String, scale: Double)) throws -> Benchmark {
        let a = Matrix(pattern(s.m * s.k)), b = Matrix(pattern(s.k * s.n)), c = Matrix([Float](repeating: 0, count: s.m * s.n))
        let ld = leadingDimensions(s)
        var result = Benchmark(title: "\(title), openblas", engine: engine, work: work, unit: unit, synchronize: {}) {
            cblas_sgemm(CblasRowMajor, s.transposeA ? CblasTrans : CblasNoTrans, s.transposeB ? CblasTrans : CblasNoTrans,
                        Int32(s.m), Int32(s.n), Int32(s.k), 1, a.pointer, Int32(ld.a), b.pointer, Int32(ld.b), 0,
                        c.pointer, Int32(ld.c))
        }
        let threads = self.threads
        result.setUp = { openblas_set_num_threads(Int32(threads)) }
        result.tearDown = { openblas_set_num_threads(1) }
        return result
    }

    /// Host memory that lives as long as the benchmark that captures it.
    final class Matrix {
        let pointer: UnsafeMutablePointer<Float>
        init(_ values: [Float]) {
            pointer = .allocate(capacity: values.count)
            pointer.initialize(from: values, count: values.count)
        }
        deinit { pointer.deallocate() }
    }
}

/// Why a reference could not be used, for the "… skipped: …" line.
struct ReferenceUnavailable: Error, CustomStringConvertible {
    let description: String
}

/// CLBlast's `CLBlastSgemm`, loaded at run time with `dlopen` (so the suite builds and runs without CLBlast), on
/// a context, queue and buffers of its own on the OpenCL device Canopy opened (same platform and device index).
final class CLBlastReference: GEMMReference {
    let engine = "clblast"
    /// `CLBlastSgemm(layout, a_transpose, b_transpose, m, n, k, alpha, a, a_offset, a_ld, b, b_offset, b_ld, beta,
    /// c, c_offset, c_ld, queue*, event*)` from clblast_c.h; the enums are C ints, size_t is Int.
    typealias Sgemm = @convention(c) (Int32, Int32, Int32, Int, Int, Int, Float, cl_mem?, Int, Int, cl_mem?, Int, Int,
                                      Float, cl_mem?, Int, Int, UnsafeMutablePointer<cl_command_queue?>?,
                                      UnsafeMutablePointer<cl_event?>?) -> Int32
    static let rowMajor: Int32 = 101, no: Int32 = 111, yes: Int32 = 112

    let sgemm: Sgemm
    let context: cl_context
    var queue: cl_command_queue?
    /// `CLBlast 1.5 (libclblast.so.1) on <device>`.
    let summary: String

    /// Opens CLBlast on the device at `platformIndex:deviceIndex` (all device types, as Canopy counts them).
    init(platformIndex: Int, deviceIndex: Int) throws {
        var library: UnsafeMutableRawPointer?
        var tried: [String] = []
        for name in ["libclblast.so.1", "libclblast.so", "libclblast.dylib"] {
            library = dlopen(name, RTLD_NOW | RTLD_LOCAL)
            if library != nil { tried = [name]; break }
            tried.append(String(cString: dlerror()))
        }
        guard let library else { throw ReferenceUnavailable(description: "dlopen: " + tried.joined(separator: "; ")) }
        guard let symbol = dlsym(library, "CLBlastSgemm") else {
            throw ReferenceUnavailable(description: "dlsym CLBlastSgemm: \(String(cString: dlerror()))")
        }
        sgemm = unsafeBitCast(symbol, to: Sgemm.self)

        var count: cl_uint = 0
        guard clGetPlatformIDs(0, nil, &count) == CL_SUCCESS, Int(count) > platformIndex else {
            throw ReferenceUnavailable(description: "no OpenCL platform \(platformIndex)")
        }
        var platforms = [cl_platform_id?](repeating: nil, count: Int(count))
        clGetPlatformIDs(count, &platforms, nil)
        var deviceCount: cl_uint = 0
        clGetDeviceIDs(platforms[platformIndex], cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &deviceCount)
        guard Int(deviceCount) > deviceIndex else {
            throw ReferenceUnavailable(description: "no OpenCL device \(platformIndex):\(deviceIndex)")
        }
        var devices = [cl_device_id?](repeating: nil, count: Int(deviceCount))
        clGetDeviceIDs(platforms[platformIndex], cl_device_type(CL_DEVICE_TYPE_ALL), deviceCount, &devices, nil)
        var device = devices[deviceIndex]
        var status: cl_int = 0
        guard let context = clCreateContext(nil, 1, &device, nil, nil, &status), status == CL_SUCCESS else {
            throw ReferenceUnavailable(description: "clCreateContext failed (\(status))")
        }
        self.context = context
        queue = clCreateCommandQueue(context, device, 0, &status)
        guard queue != nil, status == CL_SUCCESS else {
            clReleaseContext(context)
            throw ReferenceUnavailable(description: "clCreateCommandQueue failed (\(status))")
        }
        var name = [CChar](repeating: 0, count: 256)
        clGetDeviceInfo(device, cl_device_info(CL_DEVICE_NAME), name.count, &name, nil)
        summary = "CLBlast (\(tried[0]), CLBlastSgemm via dlopen) on \(String(cString: name)) [\(platformIndex):\(deviceIndex)], "
            + "own context and queue, checked against a naive product"
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            try check(MatmulShape(m: 7, n: 5, k: 3, transposeA: ta, transposeB: tb))
        }
    }

    /// Runs one small product and compares it with a naive one, so that a wrong call (layouts, leading
    /// dimensions) cannot pass for a slow one.
    private func check(_ s: MatmulShape) throws {
        let a = pattern(s.m * s.k), b = pattern(s.k * s.n).map { $0 * 2 + 0.25 }
        let ld = leadingDimensions(s)
        let (da, db) = (try Buffer(context: context, a), try Buffer(context: context, b))
        let dc = try Buffer(context: context, [Float](repeating: 0, count: s.m * s.n))
        let status = sgemm(Self.rowMajor, s.transposeA ? Self.yes : Self.no, s.transposeB ? Self.yes : Self.no,
                           s.m, s.n, s.k, 1, da.memory, 0, ld.a, db.memory, 0, ld.b, 0, dc.memory, 0, ld.c, &queue, nil)
        guard status == 0 else { throw ReferenceUnavailable(description: "CLBlastSgemm returned status \(status)") }
        var c = [Float](repeating: 0, count: s.m * s.n)
        let read = clEnqueueReadBuffer(queue, dc.memory, cl_bool(CL_TRUE), 0, c.count * MemoryLayout<Float>.size, &c, 0, nil, nil)
        guard read == CL_SUCCESS else { throw ReferenceUnavailable(description: "clEnqueueReadBuffer failed (\(read))") }
        for i in 0..<s.m {
            for j in 0..<s.n {
                var sum: Float = 0
                for p in 0..<s.k {
                    sum += (s.transposeA ? a[p * s.m + i] : a[i * s.k + p]) * (s.transposeB ? b[j * s.k + p] : b[p * s.n + j])
                }
                guard abs(c[i * s.n + j] - sum) <= 1e-4 * max(1, abs(sum)) else {
                    throw ReferenceUnavailable(description: "CLBlastSgemm \(KernelCase.describe(s)) gave C[\(i)][\(j)] = "
                                               + "\(c[i * s.n + j]), a naive product \(sum)")
                }
            }
        }
    }

    deinit {
        if let queue { clReleaseCommandQueue(queue) }
        clReleaseContext(context)
    }

    /// A device buffer filled with `values`, released with the benchmark that captures it.
    final class Buffer {
        let memory: cl_mem?
        init(context: cl_context, _ values: [Float]) throws {
            var status: cl_int = 0
            var values = values
            memory = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR),
                                    values.count * MemoryLayout<Float>.size, &values, &status)
            guard memory != nil, status == CL_SUCCESS else {
                throw ReferenceUnavailable(description: "clCreateBuffer of \(values.count) floats failed (\(status))")
            }
        }
        deinit { if let memory { clReleaseMemObject(memory) } }
    }

    func benchmark(title: String, shape s: MatmulShape, work: Double, unit: (name: String, scale: Double)) throws -> Benchmark {
        let a = try Buffer(context: context, pattern(s.m * s.k)), b = try Buffer(context: context, pattern(s.k * s.n))
        let c = try Buffer(context: context, [Float](repeating: 0, count: s.m * s.n))
        let ld = leadingDimensions(s)
        return Benchmark(title: "\(title), clblast", engine: engine, work: work, unit: unit, synchronize: { [self] in
            let status = clFinish(queue)
            guard status == CL_SUCCESS else { throw ReferenceUnavailable(description: "clFinish failed (\(status))") }
        }) { [self] in
            let status = sgemm(Self.rowMajor, s.transposeA ? Self.yes : Self.no, s.transposeB ? Self.yes : Self.no,
                               s.m, s.n, s.k, 1, a.memory, 0, ld.a, b.memory, 0, ld.b, 0, c.memory, 0, ld.c, &queue, nil)
            guard status == 0 else { throw ReferenceUnavailable(description: "CLBlastSgemm returned status \(status)") }
        }
    }
}
