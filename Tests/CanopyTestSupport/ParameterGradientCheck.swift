import CanopyCore
import XCTest

/// Checks autodiff's gradient of a planned scalar `loss` with respect to parameters against central differences
/// of the loss: every `stride`-th element of each parameter is moved by ±`step` (then restored), and
/// `|autodiff − numeric|` must stay within `absolute + relative·|numeric|`. The executor must already hold its
/// inputs and plan `loss` and every gradient as outputs. Returns autodiff's gradients, read before any
/// perturbation, by parameter name (for further checks), and prints the largest difference per parameter.
@discardableResult
public func checkParameterGradients(executor: Executor, store: ParameterStore, loss: Value,
                                    gradients: [String: Value], initial: [String: [Float]], stride: Int = 1,
                                    step: Float = 1e-2, absolute: Float = 1e-3, relative: Float = 2e-2,
                                    label: String, file: StaticString = #filePath,
                                    line: UInt = #line) throws -> [String: [Float]] {
    func currentLoss() throws -> Double {
        try executor.run()
        return Double(try executor.read(loss)[0])
    }
    _ = try currentLoss()
    let analytic = try gradients.mapValues { try executor.read($0) }
    for name in gradients.keys.sorted() {
        guard var values = initial[name] else {
            XCTFail("\(label): no initial values for parameter \(name)", file: file, line: line)
            continue
        }
        var largest: Float = 0
        for index in Swift.stride(from: 0, to: values.count, by: stride) {
            let original = values[index]
            values[index] = original + step
            try store.load([name: values])
            let plus = try currentLoss()
            values[index] = original - step
            try store.load([name: values])
            let minus = try currentLoss()
            values[index] = original
            try store.load([name: values])
            let numeric = Float((plus - minus) / Double(2 * step))
            let difference = abs(analytic[name]![index] - numeric)
            largest = max(largest, difference)
            XCTAssertLessThanOrEqual(difference, absolute + relative * abs(numeric),
                                     "\(label) \(name)[\(index)]: autodiff \(analytic[name]![index]) vs \(numeric)",
                                     file: file, line: line)
        }
        print("\(label) gradient check \(name): largest difference \(largest)")
    }
    return analytic
}
