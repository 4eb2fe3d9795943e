@testable import CanopyOpenCL
import Foundation
import XCTest

/// The compile helper's idle-core check reads the cores' present use from `/proc/stat` (the load average trails by
/// a minute): the `cpu` line's fields, guest time not counted twice, and a short busy loop seen as busy.
final class CPUTimesTests: XCTestCase {
    func testParsesTheAggregateLine() {
        let text = "cpu  100 5 50 800 20 3 2 10 40 0\ncpu0 50 2 25 400 10 1 1 5 20 0\nintr 1 2 3\n"
        XCTAssertEqual(CPUTimes.parse(text), CPUTimes(total: 990, busy: 170))
        XCTAssertEqual(CPUTimes.parse("cpu  1 2 3 4\n"), CPUTimes(total: 10, busy: 6))
        XCTAssertNil(CPUTimes.parse("cpu0 1 2 3 4\n"))
        XCTAssertNil(CPUTimes.parse("cpu  1 2\n"))
    }

    func testABusyThreadCounts() throws {
        guard CPUTimes.read() != nil else { throw XCTSkip("no /proc/stat here") }
        let stop = ManagedAtomicFlag()
        let spinner = Thread { while !stop.isSet { continue } }
        spinner.start()
        defer { stop.set() }
        let busy = try XCTUnwrap(OpenCLCompileHelper.busyCores(over: 0.2))
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        XCTAssertGreaterThanOrEqual(busy, 0.5, "one thread spinning")
        XCTAssertLessThanOrEqual(busy, cores + 0.01)
    }
}

/// A flag one thread sets and another polls.
private final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
