import CanopyCore
import XCTest

/// A buffer of no backend, of any size (0 included): what a call gets when an operand that needs one element is
/// made one element too small. Contract checks run before ownership checks, so the size error comes first.
public final class DetachedBuffer: DeviceBuffer {
    public let count: Int
    public init(count: Int) { self.count = count }
}

/// What ``checkKernelContracts(on:calls:file:line:)`` exercised, for coverage assertions.
public struct KernelContractCoverage {
    /// Kernel names (`matmul`, `unary.relu`, ...) whose valid calls ran.
    public var kernels: Set<String> = []
    /// `kernel.role` pairs made one element too small.
    public var shrunkRoles: Set<String> = []
    /// `kernel.role` pairs the contracts declare.
    public var declaredRoles: Set<String> = []
    /// Kernel names with a written operand aliased to another operand.
    public var aliasedKernels: Set<String> = []
    /// Calls checked.
    public var calls = 0
}

/// For every call: the valid call runs; each declared operand made one element too small throws
/// ``BackendError/invalidArguments(kernel:reason:)`` naming the kernel and that role; and each written operand
/// passed as the same buffer as another operand throws naming both roles.
///
/// Required counts are checked against the call's own buffer sizes, which ``KernelCalls`` derives independently
/// from the sizes (a copyBlock's y carries slack past the block, so only there may the buffer be larger).
@discardableResult
public func checkKernelContracts(on backend: Backend, calls: [KernelCall] = KernelCalls.standard(),
                                 file: StaticString = #filePath, line: UInt = #line) throws -> KernelContractCoverage {
    var coverage = KernelContractCoverage()
    for call in calls {
        coverage.calls += 1
        var buffers: [String: DeviceBuffer] = [:]
        for (name, values) in call.buffers { buffers[name] = try backend.makeBuffer(values) }
        let kernel = try call.makeKernel(KernelBuffers(backend: backend, buffers: buffers))
        let operands = try kernel.operands()
        do {
            try backend.execute(kernel)
            try backend.synchronize()
            coverage.kernels.insert(kernel.name)
        } catch {
            XCTFail("\(call.name): the valid call threw \(error)", file: file, line: line)
        }
        func bufferName(_ operand: KernelOperand) -> String? {
            buffers.first { $0.value === operand.buffer }?.key
        }
        func expectInvalid(_ bad: [String: DeviceBuffer], _ what: String, _ check: (String) -> Bool) throws {
            let badKernel = try call.makeKernel(KernelBuffers(backend: backend, buffers: bad))
            XCTAssertThrowsError(try backend.execute(badKernel), "\(call.name): \(what)", file: file, line: line) { error in
                guard case let BackendError.invalidArguments(name, reason)? = error as? BackendError else {
                    return XCTFail("\(call.name): \(what): expected invalidArguments, got \(error)", file: file, line: line)
                }
                XCTAssertEqual(name, kernel.name, "\(call.name): \(what)", file: file, line: line)
                XCTAssertTrue(check(reason), "\(call.name): \(what): unexpected reason '\(reason)'", file: file, line: line)
            }
        }

        for operand in operands {
            let key = "\(kernel.name).\(operand.role)"
            coverage.declaredRoles.insert(key)
            guard let name = bufferName(operand) else {
                XCTFail("\(call.name): operand \(operand.role) is none of the call's buffers", file: file, line: line)
                continue
            }
            let made = call.values(name).count
            if call.name.hasPrefix("copyBlock") && operand.role == "y" {
                XCTAssertLessThanOrEqual(operand.count, made, "\(call.name): \(operand.role)", file: file, line: line)
            } else {
                XCTAssertEqual(operand.count, made, "\(call.name): the contract's count of \(operand.role) differs from the sizes",
                               file: file, line: line)
            }
            var shrunk = buffers
            shrunk[name] = operand.count > 1 ? try backend.makeBuffer(count: operand.count - 1) : DetachedBuffer(count: 0)
            let expected = "\(operand.role) holds \(operand.count - 1) elements but the call needs \(operand.count)"
            try expectInvalid(shrunk, "\(operand.role) one element too small") { $0 == expected }
            coverage.shrunkRoles.insert(key)
        }

        for written in operands where written.access.writes {
            for other in operands where other.role != written.role {
                guard let writtenName = bufferName(written), let otherName = bufferName(other),
                      writtenName != otherName else { continue }
                let shared = try backend.makeBuffer(count: max(written.count, other.count))
                var aliased = buffers
                aliased[writtenName] = shared
                aliased[otherName] = shared
                try expectInvalid(aliased, "\(written.role) aliased to \(other.role)") {
                    $0.contains("same buffer") && $0.contains(written.role) && $0.contains(other.role)
                }
                coverage.aliasedKernels.insert(kernel.name)
            }
        }
    }
    return coverage
}

/// The number of kernel names the instruction set has: 48 ``Kernel`` cases, of which unary, unaryBackward,
/// parametricUnary, parametricUnaryBackward and binary have one name per function, and regressionLoss and
/// regressionLossBackward one per ``RegressionLoss`` (mse, l1, huber).
public let kernelNameCount = 48 - 5 + 2 * UnaryFunction.allCases.count + 2 * ParametricUnaryFunction.allCases.count
    + BinaryFunction.allCases.count - 2 + 2 * 3
    + 5   // issue 7's sequence kernels: embedding, embeddingBackward, batchedMatmul, swapAxes, causalMask
    + 2   // issue 8's matmulBias and conv2dBias (a product or convolution with its bias and activation)
    + 2   // issue 8's mixtureSoftmax and mixtureBackwardLogits (a softmax gate in its mixture's kernels)
    + UnaryFunction.allCases.count   // issue 8's unaryBackwardBiasGradient, one name per function
