/// How much memory a backend's device offers, for refusing a plan up front rather than failing an allocation
/// half-way through (or, on some OpenCL drivers, crashing).
public struct DeviceMemoryLimits: Equatable, Sendable {
    /// Bytes all buffers together may take (OpenCL: `CL_DEVICE_GLOBAL_MEM_SIZE`; CPU: physical memory).
    public var totalBytes: Int
    /// Bytes one buffer may take (OpenCL: `CL_DEVICE_MAX_MEM_ALLOC_SIZE`; CPU: physical memory).
    public var largestBufferBytes: Int
    /// Where the numbers come from, for messages (`"CL_DEVICE_GLOBAL_MEM_SIZE"`, `"physical memory"`).
    public var source: String

    /// Creates limits; `source` says where they come from.
    public init(totalBytes: Int, largestBufferBytes: Int, source: String) {
        self.totalBytes = totalBytes
        self.largestBufferBytes = largestBufferBytes
        self.source = source
    }
}

/// A backend that can say how much memory its device has. Canopy checks a model's planned buffers against
/// these limits before allocating any; a backend that does not conform is not checked.
public protocol MemoryLimitedBackend: Backend {
    /// The device's memory limits.
    var memoryLimits: DeviceMemoryLimits { get }
}

/// A backend that allocates nothing and runs nothing: it only counts the buffers a plan would make.
///
/// Build a ``ParameterStore`` and ``Executor`` on it to learn, before touching a real device, how many bytes a
/// model's parameters, optimizer state and planned activations take and how large its largest buffer is.
public final class MeasuringBackend: Backend {
    /// A buffer that holds nothing.
    final class PlaceholderBuffer: DeviceBuffer {
        let count: Int
        init(count: Int) { self.count = count }
    }

    /// `measuring`.
    public let name = "measuring"
    /// No device: the backend only counts.
    public let deviceDescription = "no device (counts planned buffers)"
    /// Elements of every buffer made so far.
    public private(set) var totalElements = 0
    /// Elements of the largest buffer made so far; for an arena (a buffer that views were made of), its largest
    /// view: a device whose largest buffer cannot hold the arena gets separate buffers instead (see
    /// ``ArenaLayout/makeArena(on:)``), so the arena never has to fit one allocation.
    public var largestBufferElements: Int {
        made.map { buffer in largestView[ObjectIdentifier(buffer)] ?? buffer.count }.max() ?? 0
    }
    /// Every buffer made (kept, so that identifiers stay unique), and per arena its largest view.
    private var made: [PlaceholderBuffer] = []
    private var largestView: [ObjectIdentifier: Int] = [:]

    /// Creates a backend with nothing counted.
    public init() {}

    /// Counts a buffer of `count` float32 elements.
    public func makeBuffer(count: Int) throws -> DeviceBuffer {
        guard count >= 1 else { throw BackendError.invalidArguments(kernel: "makeBuffer", reason: "count \(count) < 1") }
        let (total, overflow) = totalElements.addingReportingOverflow(count)
        guard !overflow else { throw BackendError.invalidArguments(kernel: "makeBuffer", reason: "sizes overflow") }
        totalElements = total
        let buffer = PlaceholderBuffer(count: count)
        made.append(buffer)
        return buffer
    }

    /// A view: counts nothing (it shares its buffer's memory).
    public func makeView(of buffer: DeviceBuffer, offset: Int, count: Int) throws -> DeviceBuffer {
        guard offset >= 0, count >= 1, offset + count <= buffer.count else {
            throw BackendError.invalidArguments(kernel: "makeView", reason: "\(count) elements at \(offset) exceed \(buffer.count)")
        }
        let id = ObjectIdentifier(buffer)
        largestView[id] = max(largestView[id] ?? 0, count)
        return PlaceholderBuffer(count: count)
    }

    /// 16 elements, as the CPU backend's (an OpenCL device's alignment leaves gaps of at most a few KiB).
    public var viewAlignment: Int { 16 }

    /// Does nothing.
    public func upload(_ values: UnsafeBufferPointer<Float>, to buffer: DeviceBuffer, offset: Int) throws {}

    /// Fills `destination` with zeros.
    public func download(_ buffer: DeviceBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>) throws {
        for i in destination.indices { destination[i] = 0 }
    }

    /// Does nothing.
    public func execute(_ kernel: Kernel) throws {}

    /// Does nothing.
    public func synchronize() throws {}
}
