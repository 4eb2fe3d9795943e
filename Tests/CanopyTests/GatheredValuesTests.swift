import Canopy
import CanopyTestSupport
import XCTest

/// An executor's gathered values lie end to end in one buffer after every step: computed in place where the
/// backend makes views, copied there otherwise (and for values that cannot be placed), always the values an
/// immediate read gives.
final class GatheredValuesTests: XCTestCase {
    func testGatheredValuesHoldWhatReadsGive() throws {
        let g = Graph()
        let x = g.input("x", shape: [3, 5])
        let w = g.parameter("w", shape: [5, 4], initializer: .heUniform(fanIn: 5))
        let h = g.unary(.tanh, try g.matmul(x, w))
        let flat = try g.reshape(h, to: [12])            // an alias of h
        let out = g.unary(.relu, h)
        let total = try g.maskedMean(flat, mask: g.input("mask", shape: [12]))
        // A computed value, an alias whose source is gathered too, the mean and count (two outputs of one node),
        // an input, a parameter, and a value asked for twice.
        let gathered = [out, h, flat, total.loss, total.count, x, w, out]
        let inputs = (0..<15).map { Float($0) * 0.25 - 1.5 }, mask = (0..<12).map { Float($0 % 3 == 0 ? 0 : 1) }
        var backends: [Backend] = [CPUBackend(), ParameterArenaTests.NoViews(CPUBackend())]
        if let openCL = TestModels.openCL().backend { backends.append(openCL) }
        for backend in backends {
            let store = try ParameterStore(graph: g, backend: backend)
            let executor = try Executor(graph: g, backend: backend, parameters: store, outputs: [], mode: .inference,
                                        gathered: gathered)
            let layout = try XCTUnwrap(executor.gathered)
            XCTAssertEqual(layout.values, gathered)
            XCTAssertTrue(layout.offsets.allSatisfy { $0 % backend.viewAlignment == 0 }, backend.name)
            let makesViews = !(backend is ParameterArenaTests.NoViews)
            // In place: out, h, the mean and the count; copied: flat (h is placed already), x, w, out's second place.
            XCTAssertEqual(layout.copiedCount, makesViews ? 4 : 8, backend.name)
            for step in 0..<2 {
                try executor.setInput("x", inputs.map { $0 * Float(step + 1) })
                try executor.setInput("mask", mask)
                try executor.run()
                var all = [Float](repeating: .nan, count: layout.count)
                try all.withUnsafeMutableBufferPointer { try backend.download(layout.buffer, offset: 0, into: $0) }
                for (index, value) in gathered.enumerated() {
                    let start = layout.offsets[index]
                    XCTAssertEqual(Array(all[start..<(start + layout.counts[index])]), try executor.read(value),
                                   "\(backend.name): step \(step), gathered value \(index)")
                }
            }
        }
    }
}
