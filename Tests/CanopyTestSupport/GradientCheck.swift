import CanopyCore
import XCTest

/// Named buffers of one gradient check on one backend: the inputs (re-uploaded before every forward run) and
/// whatever the forward pass creates (outputs, probabilities, pooling indices, dropout masks) for the backward
/// pass to read.
public final class GradientContext {
    public let backend: Backend
    private var buffers: [String: DeviceBuffer] = [:]

    init(backend: Backend) {
        self.backend = backend
    }

    /// The buffer called `name`, made on first use with `count` elements (zero-filled) and reused afterwards.
    public func buffer(_ name: String, count: Int) throws -> DeviceBuffer {
        if let existing = buffers[name] { return existing }
        let made = try backend.makeBuffer(count: count)
        buffers[name] = made
        return made
    }

    /// An existing buffer: an input, or one the forward pass made.
    public subscript(name: String) -> DeviceBuffer {
        get throws {
            guard let buffer = buffers[name] else {
                throw BackendError.invalidArguments(kernel: "gradient check", reason: "no buffer named '\(name)'")
            }
            return buffer
        }
    }

    /// Runs one kernel on the backend.
    public func run(_ kernel: Kernel) throws {
        try backend.execute(kernel)
    }

    func upload(_ name: String, _ values: [Float]) throws {
        try backend.upload(values, to: try buffer(name, count: values.count))
    }
}

/// The result of one gradient check: per differentiable input, the analytic gradient against the central
/// difference.
public struct GradientReport: CustomStringConvertible {
    public var name: String
    public var differences: [(input: String, difference: Difference)]

    public var passed: Bool { differences.allSatisfy { $0.difference.passed } }
    /// The largest absolute difference over all inputs.
    public var largest: Float { differences.map(\.difference.absolute).max() ?? 0 }

    public var description: String {
        "gradient \(name): " + differences.map { "d\($0.input) \($0.difference)" }.joined(separator: "; ")
    }
}

/// Checks the backward kernels of one operation against central differences of its forward kernels, all run
/// on `backend`.
///
/// The objective is `L = Σ_i r_i · y_i` with `y` the buffer `forward` returns and `r` random in [-1, 1], so the
/// analytic gradient is what `backward` computes from `dy = r`. For up to `maxCoordinates` coordinates j of each
/// input in `wrt` (evenly spaced, all of them for small inputs), the numeric derivative is
/// `(L(x + h·e_j) − L(x − h·e_j)) / (x_j⁺ − x_j⁻)`, with the perturbed values rounded to float32 and L summed
/// in double on the host from the backend's float32 outputs.
///
/// - Parameters:
///   - inputs: every input buffer with its values, uploaded before each forward run (so in-out buffers such
///     as matmul's C start afresh).
///   - wrt: the inputs to differentiate with respect to.
///   - forward: runs the forward kernels and returns the buffer y (and its element count) that L is taken over.
///   - backward: runs the backward kernels given `dy` and returns the gradient buffer for each name in `wrt`.
///   - recordFailures: whether a mismatch or an error is an XCTest failure at `file`/`line` (pass false to test
///     the checker itself, then read ``GradientReport/passed``).
/// - Returns: the report.
@discardableResult
public func checkGradient(_ name: String, on backend: Backend, inputs: KeyValuePairs<String, [Float]>,
                          wrt: [String], step: Float = 1e-2, tolerance: Tolerance = .gradient,
                          maxCoordinates: Int = 48, seed: UInt64 = 99, recordFailures: Bool = true,
                          forward: (GradientContext) throws -> (DeviceBuffer, Int),
                          backward: (GradientContext, _ dy: DeviceBuffer) throws -> [String: DeviceBuffer],
                          file: StaticString = #filePath, line: UInt = #line) -> GradientReport {
    var report = GradientReport(name: name, differences: [])
    do {
        let context = GradientContext(backend: backend)
        var values: [String: [Float]] = [:]
        for (input, data) in inputs { values[input] = data }

        func objective(_ current: [String: [Float]], weights: [Float]) throws -> Double {
            for (input, data) in current { try context.upload(input, data) }
            let (y, count) = try forward(context)
            var output = [Float](repeating: 0, count: count)
            try output.withUnsafeMutableBufferPointer { try backend.download(y, offset: 0, into: $0) }
            return zip(output, weights).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }

        // Analytic gradient from one forward and one backward pass.
        for (input, data) in values { try context.upload(input, data) }
        let (_, outputCount) = try forward(context)
        var random = TestRandom(seed: seed)
        let weights = random.floats(outputCount)
        let dy = try context.buffer("__dy", count: outputCount)
        try backend.upload(weights, to: dy)
        let gradients = try backward(context, dy)

        for input in wrt {
            guard let original = values[input], let gradientBuffer = gradients[input] else {
                XCTFail("gradient \(name): no input or gradient named '\(input)'", file: file, line: line)
                continue
            }
            var analytic = [Float](repeating: 0, count: original.count)
            try analytic.withUnsafeMutableBufferPointer { try backend.download(gradientBuffer, offset: 0, into: $0) }
            let stride = max(1, (original.count + maxCoordinates - 1) / maxCoordinates)
            var checkedAnalytic: [Float] = [], numeric: [Float] = []
            for j in Swift.stride(from: 0, to: original.count, by: stride) {
                var perturbed = values
                let plus = original[j] + step, minus = original[j] - step
                perturbed[input]![j] = plus
                let high = try objective(perturbed, weights: weights)
                perturbed[input]![j] = minus
                let low = try objective(perturbed, weights: weights)
                numeric.append(Float((high - low) / Double(plus - minus)))
                checkedAnalytic.append(analytic[j])
            }
            let difference = recordFailures
                ? assertClose(checkedAnalytic, numeric, tolerance: tolerance,
                              "gradient \(name) on \(backend.name), d\(input) vs central difference", file: file, line: line)
                : maxDifference(checkedAnalytic, numeric, tolerance: tolerance)
            report.differences.append((input, difference))
        }
    } catch {
        if recordFailures { XCTFail("gradient \(name) on \(backend.name) threw: \(error)", file: file, line: line) }
        report.differences.append(("error", Difference(absolute: .infinity, worstExcess: .infinity)))
    }
    return report
}
