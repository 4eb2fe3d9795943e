/// How a kernel uses one of its buffers.
public enum OperandAccess: Sendable, Equatable {
    /// The kernel only reads the buffer.
    case read
    /// The kernel writes the buffer without reading it first (previous contents are ignored, even NaN).
    /// ``Kernel/copyBlock(x:y:rows:cols:xStride:xOffset:yStride:yOffset:)`` writes only its block of y.
    case write
    /// The kernel reads the buffer and writes it back in place: an optimizer's parameter and state, or
    /// matmul's C when `beta ≠ 0`.
    case readWrite

    /// Whether the kernel writes the buffer (``write`` or ``readWrite``).
    public var writes: Bool {
        switch self {
        case .read: return false
        case .write, .readWrite: return true
        }
    }
}

/// One buffer of a kernel call, as the call's contract declares it: its role, how the kernel uses it, and how
/// many elements the sizes of the call require it to hold.
public struct KernelOperand {
    /// The argument label of the ``Kernel`` case, e.g. `a`, `dWeight` or `rowLoss`.
    public let role: String
    /// The buffer passed for this role.
    public let buffer: DeviceBuffer
    /// Whether the kernel reads it, writes it, or both.
    public let access: OperandAccess
    /// The least number of elements the buffer must hold for the call's sizes.
    public let count: Int

    /// Creates an operand declaration.
    public init(role: String, buffer: DeviceBuffer, access: OperandAccess, count: Int) {
        self.role = role; self.buffer = buffer; self.access = access; self.count = count
    }

    static func read(_ role: String, _ buffer: DeviceBuffer, _ count: Int) -> KernelOperand {
        KernelOperand(role: role, buffer: buffer, access: .read, count: count)
    }

    static func write(_ role: String, _ buffer: DeviceBuffer, _ count: Int) -> KernelOperand {
        KernelOperand(role: role, buffer: buffer, access: .write, count: count)
    }

    static func readWrite(_ role: String, _ buffer: DeviceBuffer, _ count: Int) -> KernelOperand {
        KernelOperand(role: role, buffer: buffer, access: .readWrite, count: count)
    }
}

/// The buffers one ``Kernel`` call uses, in the order of the case's arguments, with their roles, access and
/// required element counts: what every backend can rely on once ``Kernel/validate()`` has returned it.
///
/// Obtained from ``Kernel/operands()`` (size rules only) or ``Kernel/validate()`` (size rules, buffer sizes and
/// aliasing). A contract holds at most five operands inline, so building one allocates nothing.
///
/// ```swift
/// for operand in try kernel.validate() where operand.access.writes {
///     print(operand.role, operand.count)   // the buffers this call will write
/// }
/// ```
public struct KernelContract: RandomAccessCollection {
    /// The most operands any kernel has.
    public static let capacity = 8

    // Fixed fields rather than an array, so that validating a call allocates nothing.
    private let o0: KernelOperand, o1, o2, o3, o4, o5, o6, o7: KernelOperand?
    /// The number of operands.
    public let count: Int

    init(_ a: KernelOperand, _ b: KernelOperand? = nil, _ c: KernelOperand? = nil, _ d: KernelOperand? = nil,
         _ e: KernelOperand? = nil, _ f: KernelOperand? = nil, _ g: KernelOperand? = nil, _ h: KernelOperand? = nil) {
        o0 = a; o1 = b; o2 = c; o3 = d; o4 = e; o5 = f; o6 = g; o7 = h
        count = h != nil ? 8 : g != nil ? 7 : f != nil ? 6 : e != nil ? 5 : d != nil ? 4 : c != nil ? 3 : b != nil ? 2 : 1
    }

    /// 0.
    public var startIndex: Int { 0 }
    /// ``count``.
    public var endIndex: Int { count }

    /// The operand at `position`, which must be below ``count``.
    public subscript(position: Int) -> KernelOperand {
        switch position {
        case 0: return o0
        case 1: return o1!
        case 2: return o2!
        case 3: return o3!
        case 4: return o4!
        case 5: return o5!
        case 6: return o6!
        case 7: return o7!
        default: preconditionFailure("operand \(position) of a contract with \(count)")
        }
    }

    /// The operand declared for `role`, if the call has one.
    public func operand(_ role: String) -> KernelOperand? {
        first { $0.role == role }
    }

    /// Throws unless every buffer holds at least its count and no written buffer is the same object as another
    /// operand. Reasons name the role, e.g. `dWeight holds 5 elements but the call needs 6`.
    func checkBuffers() throws {
        for operand in self where operand.buffer.count < operand.count {
            throw ContractViolation("\(operand.role) holds \(operand.buffer.count) elements but the call needs \(operand.count)")
        }
        for i in 0..<count where self[i].access.writes {
            for j in 0..<count where j != i && self[j].buffer === self[i].buffer {
                throw ContractViolation("\(self[i].role) and \(self[j].role) are the same buffer; a buffer a kernel "
                    + "writes must not be passed as any other operand")
            }
        }
    }
}

extension Kernel {
    /// Checks a call against its contract, the same way on every backend, before anything runs.
    ///
    /// Checks the size rules of the case (sizes at least 1, element counts without overflow, geometry that
    /// fits, strides and offsets, probabilities and steps in range), that each buffer holds at least the
    /// elements its role needs, and that no buffer the kernel writes is the same object (`===`) as another
    /// operand. The built-in backends call it at the top of ``Backend/execute(_:)``, and ``Executor`` calls it
    /// once per planned call, so a third-party backend gets the same checks without code of its own.
    ///
    /// - Returns: the call's operands, for a backend that wants to walk them (say, to check buffer ownership).
    /// - Throws: ``BackendError/invalidArguments(kernel:reason:)`` naming the kernel and the size or role at fault.
    @discardableResult
    public func validate() throws -> KernelContract {
        do {
            let contract = try declaredOperands()
            try contract.checkBuffers()
            return contract
        } catch let violation as ContractViolation {
            throw BackendError.invalidArguments(kernel: name, reason: violation.reason)
        }
    }

    /// The call's operands with their required counts, after checking the size rules only (not the buffers).
    /// - Throws: ``BackendError/invalidArguments(kernel:reason:)`` when a size rule fails.
    public func operands() throws -> KernelContract {
        do {
            return try declaredOperands()
        } catch let violation as ContractViolation {
            throw BackendError.invalidArguments(kernel: name, reason: violation.reason)
        }
    }
}

/// A broken rule of a kernel's contract; ``Kernel/validate()`` adds the kernel's name (built only on failure).
struct ContractViolation: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The size rules contracts share. Names are string literals, so checking allocates nothing unless it fails.
enum SizeRule {
    /// Throws unless `value ≥ minimum`.
    static func atLeast(_ minimum: Int, _ value: Int, _ name: String) throws {
        guard value >= minimum else { throw ContractViolation("\(name) must be at least \(minimum), got \(value)") }
    }

    /// Throws unless `value ≥ 1`.
    static func positive(_ value: Int, _ name: String) throws {
        try atLeast(1, value, name)
    }

    /// `a · b`, throwing instead of overflowing.
    static func product(_ a: Int, _ b: Int) throws -> Int {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw ContractViolation("sizes \(a) × \(b) overflow") }
        return value
    }

    /// `a · b · c`, throwing instead of overflowing.
    static func product(_ a: Int, _ b: Int, _ c: Int) throws -> Int {
        try product(try product(a, b), c)
    }

    /// `a · b · c · d`, throwing instead of overflowing.
    static func product(_ a: Int, _ b: Int, _ c: Int, _ d: Int) throws -> Int {
        try product(try product(a, b), try product(c, d))
    }

    /// `a + b`, throwing instead of overflowing.
    static func sum(_ a: Int, _ b: Int) throws -> Int {
        let (value, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw ContractViolation("sizes \(a) + \(b) overflow") }
        return value
    }

    /// The elements a buffer must hold for a `rows × cols` block at `offset` with row `stride`:
    /// `(rows − 1)·stride + offset + cols`.
    static func blockExtent(rows: Int, cols: Int, stride: Int, offset: Int) throws -> Int {
        try sum(try sum(try product(rows - 1, stride), offset), cols)
    }
}
