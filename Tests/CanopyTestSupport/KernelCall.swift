import CanopyCore
import XCTest

/// One kernel call described on the host, so that it can be run on any backend and the results compared.
///
/// A call names every buffer it uses with its initial contents (inputs, in-out buffers such as matmul's C with
/// `beta ≠ 0` or an optimizer's state, and pure outputs, which ``KernelCalls`` pre-fill with NaN so that an
/// element a kernel forgets to write fails any comparison). `makeKernel` builds the ``Kernel`` from the
/// buffers a backend made; `outputs` lists the buffers to download and compare afterwards.
///
/// ```swift
/// let call = KernelCall("scale", buffers: ["x": random.floats(7), "y": .nan(7)], outputs: ["y"]) {
///     .scale(x: try $0["x"], y: try $0["y"], alpha: 2, count: 7)
/// }
/// try compareKernel(call, on: openCL, and: cpu)
/// ```
public struct KernelCall {
    /// A readable label including the sizes, e.g. `matmul 7×33×129 Aᵀ`; used in messages.
    public var name: String
    /// Every buffer of the call with its initial contents, in creation order.
    public var buffers: [(name: String, values: [Float])]
    /// The buffers whose contents after the call are the result.
    public var outputs: [String]
    /// How closely two backends must agree on this call (see ``KernelCalls`` for the defaults per kernel).
    public var tolerance: Tolerance
    /// Builds the kernel from the buffers a backend made for ``buffers``.
    public var makeKernel: (KernelBuffers) throws -> Kernel

    public init(_ name: String, buffers: KeyValuePairs<String, [Float]>, outputs: [String],
                tolerance: Tolerance = .float32, makeKernel: @escaping (KernelBuffers) throws -> Kernel) {
        self.name = name
        self.buffers = buffers.map { ($0.key, $0.value) }
        self.outputs = outputs
        self.tolerance = tolerance
        self.makeKernel = makeKernel
    }

    /// The initial contents of buffer `name` (empty if there is none).
    public func values(_ name: String) -> [Float] {
        buffers.first { $0.name == name }?.values ?? []
    }
}

/// The device buffers of one ``KernelCall`` on one backend, by name.
public struct KernelBuffers {
    public let backend: Backend
    public let buffers: [String: DeviceBuffer]

    /// Buffers by name, as made on `backend`.
    public init(backend: Backend, buffers: [String: DeviceBuffer]) {
        self.backend = backend
        self.buffers = buffers
    }

    /// The buffer called `name`; throws if the call declared no such buffer.
    public subscript(name: String) -> DeviceBuffer {
        get throws {
            guard let buffer = buffers[name] else {
                throw BackendError.invalidArguments(kernel: "KernelCall", reason: "no buffer named '\(name)'")
            }
            return buffer
        }
    }
}

extension Array where Element == Float {
    /// `count` NaNs: the initial contents of a pure output buffer.
    public static func nan(_ count: Int) -> [Float] { [Float](repeating: .nan, count: count) }
}

extension KernelCall {
    /// Runs the call on `backend`: makes and fills its buffers, executes the kernel, and returns the contents of
    /// the output buffers by name (each trimmed to the length the call declared).
    public func run(on backend: Backend) throws -> [String: [Float]] {
        try runCall(self, on: backend)
    }
}

private func runCall(_ call: KernelCall, on backend: Backend) throws -> [String: [Float]] {
    var buffers: [String: DeviceBuffer] = [:]
    for (name, values) in call.buffers {
        buffers[name] = try backend.makeBuffer(values)
    }
    try backend.execute(try call.makeKernel(KernelBuffers(backend: backend, buffers: buffers)))
    var results: [String: [Float]] = [:]
    for name in call.outputs {
        guard let buffer = buffers[name] else {
            throw BackendError.invalidArguments(kernel: call.name, reason: "output '\(name)' is not a buffer of the call")
        }
        let full = try backend.download(buffer)
        results[name] = Array(full.prefix(call.values(name).count))
    }
    return results
}

/// Runs the same call on two backends and asserts that every output agrees within `tolerance` (by default the
/// call's own). `a` is treated as the one under test and `b` as the reference (`expected`).
///
/// Prints one line per output (`parity matmul 7×33×129: c opencl vs cpu max abs diff ...`) unless `quiet`.
/// Returns the difference per output. Throws only if a backend throws.
@discardableResult
public func compareKernel(_ call: KernelCall, on a: Backend, and b: Backend, tolerance: Tolerance? = nil,
                          quiet: Bool = false, file: StaticString = #filePath, line: UInt = #line)
    throws -> [String: Difference] {
    let tested = try call.run(on: a)
    let reference = try call.run(on: b)
    let tolerance = tolerance ?? call.tolerance
    var differences: [String: Difference] = [:]
    for name in call.outputs {
        let difference = assertClose(tested[name] ?? [], reference[name] ?? [], tolerance: tolerance,
                                     "\(call.name): output \(name), \(a.name) vs \(b.name)", file: file, line: line)
        differences[name] = difference
        if !quiet { print("parity \(call.name): \(name) \(a.name) vs \(b.name) \(difference)") }
    }
    return differences
}

/// Compares every call of `calls` (by default ``KernelCalls/standard(seed:)``, one or more per kernel at
/// awkward sizes) on `a` against `b`, and returns the largest absolute difference seen per call name.
/// A call whose kernel throws on either backend is recorded as a failure and the others still run.
@discardableResult
public func compareAllKernels(on a: Backend, and b: Backend, calls: [KernelCall] = KernelCalls.standard(),
                              quiet: Bool = false, file: StaticString = #filePath, line: UInt = #line)
    -> [String: Float] {
    var largest: [String: Float] = [:]
    for call in calls {
        do {
            let differences = try compareKernel(call, on: a, and: b, quiet: quiet, file: file, line: line)
            largest[call.name] = differences.values.map(\.absolute).max() ?? 0
        } catch {
            XCTFail("\(call.name): \(error)", file: file, line: line)
            largest[call.name] = .infinity
        }
    }
    return largest
}
