@testable import CanopyCPU
import Foundation
import XCTest

/// `canopy_parallel_for`, the CPU backend's worker pool: every chunk runs exactly once, back-to-back loops of any
/// size reuse the pool, loops from several threads at once and loops inside a chunk all complete.
final class ThreadPoolTests: XCTestCase {
    /// Runs a loop of `chunks` on `threads` through the backend's own bridge to the pool.
    private static func loop(_ chunks: Int, threads: Int, _ body: (Int) -> Void) {
        runOnPool(chunks: chunks, threads: threads, body)
    }

    func testEveryChunkRunsOnceInBackToBackLoops() {
        for round in 0..<2000 {
            let chunks = 1 + round % 37, threads = 1 + round % 4
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: chunks)
            counts.initialize(repeating: 0, count: chunks)
            defer { counts.deallocate() }
            Self.loop(chunks, threads: threads) { counts[$0] += 1 }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: chunks)), Array(repeating: 1, count: chunks),
                           "round \(round): \(chunks) chunks on \(threads) threads")
        }
    }

    func testLoopsFromSeveralThreadsAndInsideChunksComplete() {
        let group = DispatchGroup()
        let tally = Tally(callers: 4)
        defer { tally.failures.deallocate() }
        for caller in 0..<4 {
            group.enter()
            Thread {
                for round in 0..<300 {
                    let chunks = 3 + (round + caller) % 11
                    let sums = UnsafeMutablePointer<Int>.allocate(capacity: chunks)
                    sums.initialize(repeating: 0, count: chunks)
                    // Each chunk runs an inner loop of its own (run on the chunk's thread when the pool is busy).
                    Self.loop(chunks, threads: 2) { chunk in
                        var inner = [Int](repeating: 0, count: 5)
                        inner.withUnsafeMutableBufferPointer { cells in
                            let base = cells.baseAddress!
                            Self.loop(5, threads: 2) { base[$0] = chunk + $0 }
                        }
                        sums[chunk] = inner.reduce(0, +)
                    }
                    for chunk in 0..<chunks where sums[chunk] != 5 * chunk + 10 { tally.failures[caller] += 1 }
                    sums.deallocate()
                }
                group.leave()
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success, "a loop never finished")
        XCTAssertEqual(Array(UnsafeBufferPointer(start: tally.failures, count: 4)), [0, 0, 0, 0])
    }
}

/// Wrong sums per calling thread (each thread writes only its own cell).
private final class Tally: @unchecked Sendable {
    let failures: UnsafeMutablePointer<Int>
    init(callers: Int) {
        failures = .allocate(capacity: callers)
        failures.initialize(repeating: 0, count: callers)
    }
}
