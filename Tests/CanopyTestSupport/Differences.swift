import XCTest

/// How far an actual value may be from an expected one: `|actual − expected| ≤ absolute + relative·|expected|`.
///
/// NaN and infinities never pass, on either side: Canopy's kernels should never produce them on test inputs,
/// and an output element a kernel forgot to write (tests pre-fill outputs with NaN) must be caught.
public struct Tolerance: Equatable, Sendable, CustomStringConvertible {
    public var absolute: Float
    public var relative: Float

    public init(absolute: Float, relative: Float) {
        self.absolute = absolute
        self.relative = relative
    }

    /// Bit-for-bit equality (still failing on NaN).
    public static let exact = Tolerance(absolute: 0, relative: 0)
    /// Two float32 computations of the same formula in a different order: `1e-5 + 1e-4·|e|`.
    public static let float32 = Tolerance(absolute: 1e-5, relative: 1e-4)
    /// Analytic gradient against a float32 central difference: `1e-2 + 1e-2·|numeric|`.
    public static let gradient = Tolerance(absolute: 1e-2, relative: 1e-2)

    /// How many times the allowed error `actual` is from `expected` (≤ 1 passes; infinity for non-finite values).
    public func excess(_ actual: Float, _ expected: Float) -> Float {
        guard actual.isFinite, expected.isFinite else { return .infinity }
        let error = abs(actual - expected)
        let allowed = absolute + relative * abs(expected)
        if allowed == 0 { return error == 0 ? 0 : .infinity }
        return error / allowed
    }

    public var description: String { "abs \(absolute) + rel \(relative)" }
}

/// The largest disagreement between two float arrays, and where it is.
public struct Difference: CustomStringConvertible, Sendable {
    /// Largest `|actual − expected|` (infinity when a value is not finite or the counts differ).
    public var absolute: Float = 0
    /// Largest `|actual − expected| / |expected|` over elements with `expected ≠ 0`.
    public var relative: Float = 0
    /// The element with the largest absolute difference, and its two values.
    public var index: Int = -1
    public var actual: Float = 0
    public var expected: Float = 0
    /// Largest ``Tolerance/excess(_:_:)`` (≤ 1 when every element passes), and the element where it occurs.
    public var worstExcess: Float = 0
    public var worstIndex: Int = -1
    /// The number of elements compared.
    public var count: Int = 0
    /// Set when the arrays have different lengths.
    public var countMismatch: (actual: Int, expected: Int)? = nil

    /// Whether every element was within the tolerance used.
    public var passed: Bool { countMismatch == nil && worstExcess <= 1 }

    public var description: String {
        if let (a, e) = countMismatch { return "length \(a) where \(e) was expected" }
        if count == 0 { return "no elements" }
        return "max abs diff \(absolute) at [\(index)] (\(actual) vs \(expected)), max rel diff \(relative)"
    }
}

/// Compares `actual` with `expected` element by element; `tolerance` only decides ``Difference/worstExcess``.
public func maxDifference(_ actual: [Float], _ expected: [Float], tolerance: Tolerance = .float32) -> Difference {
    var result = Difference()
    guard actual.count == expected.count else {
        result.countMismatch = (actual.count, expected.count)
        result.absolute = .infinity
        result.worstExcess = .infinity
        return result
    }
    result.count = actual.count
    for i in actual.indices {
        let a = actual[i], e = expected[i]
        let error = (a.isFinite && e.isFinite) ? abs(a - e) : Float.infinity
        if error > result.absolute || result.index < 0 {
            result.absolute = error; result.index = i; result.actual = a; result.expected = e
        }
        if e != 0 { result.relative = max(result.relative, error / abs(e)) }
        let excess = tolerance.excess(a, e)
        if excess > result.worstExcess || result.worstIndex < 0 {
            result.worstExcess = excess; result.worstIndex = i
        }
    }
    return result
}

/// Asserts that `actual` matches `expected` within `tolerance`; on failure the message names the largest absolute
/// and relative difference, the element where the tolerance is exceeded most, and both values there.
/// Returns the difference so that callers can print it.
@discardableResult
public func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Tolerance = .float32,
                        _ message: @autoclosure () -> String = "",
                        file: StaticString = #filePath, line: UInt = #line) -> Difference {
    let difference = maxDifference(actual, expected, tolerance: tolerance)
    if !difference.passed {
        let w = difference.worstIndex
        let worst = w >= 0 && w < actual.count ? " worst [\(w)]: \(actual[w]) vs \(expected[w])," : ""
        XCTFail("\(message()): \(difference);\(worst) tolerance \(tolerance)", file: file, line: line)
    }
    return difference
}
