import CanopyCore
import XCTest
@testable import CanopyTrain

/// The values ``ParameterInitializer`` draws for `uniform(bound:)` (PyTorch's default for Linear and Conv2d), and
/// that adding it left the existing initialisers' draws alone.
final class WeightInitValueTests: XCTestCase {
    func testUniformStaysWithinItsBoundAndIsNotZero() {
        let g = Graph()
        let bound = 1 / Float(20).squareRoot()
        _ = g.parameter("w", shape: [30, 20], initializer: .uniform(bound: bound))
        _ = g.parameter("b", shape: [30], initializer: .uniform(bound: bound))
        let values = ParameterInitializer.initialValues(for: g, seed: 3)
        for name in ["w", "b"] {
            let v = values[name]!
            XCTAssertTrue(v.allSatisfy { abs($0) <= bound }, name)
            XCTAssertTrue(v.contains { $0 != 0 }, "\(name) is all zeros")
            XCTAssertGreaterThan(v.map(abs).max()!, bound / 2, "\(name) should spread over its range")
        }
    }

    /// The same draws as He-uniform with the bound scaled: one uniform number per element from the shared stream.
    func testUniformDrawsLikeHeUniform() {
        func draw(_ initializer: ParameterInit) -> [Float] {
            let g = Graph()
            _ = g.parameter("w", shape: [7], initializer: initializer)
            _ = g.parameter("after", shape: [3], initializer: .heUniform(fanIn: 6))
            let values = ParameterInitializer.initialValues(for: g, seed: 11)
            return values["w"]! + values["after"]!
        }
        let he = draw(.heUniform(fanIn: 6)), uniform = draw(.uniform(bound: 1))
        XCTAssertEqual(Array(uniform.suffix(3)), Array(he.suffix(3)), "later parameters draw the same values")
        for (u, h) in zip(uniform.prefix(7), he.prefix(7)) { XCTAssertEqual(u, h, accuracy: 1e-6) }
    }
}
