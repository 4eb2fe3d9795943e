import CanopyCore

/// Checks one kernel call's buffers and sizes and hands out raw pointers.
///
/// Every kernel starts by declaring its sizes and buffers here, so that a bad call throws
/// ``BackendError/invalidArguments(kernel:reason:)`` naming the kernel and the argument, instead of reading or
/// writing out of bounds. Each accessor returns its pointer; call ``checkAliasing()`` once all buffers are declared.
struct KernelArguments {
    let kernel: String
    let backend: CPUBackend
    private var inputs: [(role: String, buffer: CPUBuffer)] = []
    private var outputs: [(role: String, buffer: CPUBuffer)] = []

    init(_ kernel: Kernel, on backend: CPUBackend) {
        self.kernel = kernel.name
        self.backend = backend
    }

    /// Throws unless `value ≥ minimum` (sizes are at least 1 unless a kernel says otherwise).
    func size(_ value: Int, _ role: String, atLeast minimum: Int = 1) throws {
        guard value >= minimum else { throw invalid("\(role) must be at least \(minimum), got \(value)") }
    }

    /// Multiplies sizes, throwing instead of overflowing.
    func product(_ factors: Int...) throws -> Int {
        var result = 1
        for factor in factors {
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            guard !overflow else { throw invalid("sizes \(factors) overflow") }
            result = value
        }
        return result
    }

    /// A buffer the kernel reads: at least `count` elements long.
    mutating func input(_ buffer: DeviceBuffer, _ role: String, count: Int) throws -> UnsafePointer<Float> {
        let cpu = try checked(buffer, role, count: count)
        inputs.append((role, cpu))
        return UnsafePointer(cpu.pointer)
    }

    /// A buffer the kernel writes (or reads and writes): at least `count` elements long.
    mutating func output(_ buffer: DeviceBuffer, _ role: String, count: Int) throws -> UnsafeMutablePointer<Float> {
        let cpu = try checked(buffer, role, count: count)
        outputs.append((role, cpu))
        return cpu.pointer
    }

    /// Throws if an output is the same buffer as an input or as another output.
    func checkAliasing() throws {
        for (index, output) in outputs.enumerated() {
            for other in inputs where other.buffer === output.buffer {
                throw invalid("\(output.role) and \(other.role) are the same buffer; outputs must not alias inputs")
            }
            for other in outputs[..<index] where other.buffer === output.buffer {
                throw invalid("\(output.role) and \(other.role) are the same buffer; outputs must not alias")
            }
        }
    }

    func invalid(_ reason: String) -> BackendError {
        BackendError.invalidArguments(kernel: kernel, reason: reason)
    }

    private func checked(_ buffer: DeviceBuffer, _ role: String, count: Int) throws -> CPUBuffer {
        let cpu = try backend.cpuBuffer(buffer)
        guard cpu.count >= count else {
            throw invalid("\(role) holds \(cpu.count) elements but the call needs \(count)")
        }
        return cpu
    }
}
