// canopy-mpi-probe: runs every collective of MPIProcessGroup under mpirun and prints one line per check,
//   probe rank=R size=S check=NAME value=VALUE status=ok|FAIL[ detail]
// and lines `probe rank=R size=S info=NAME value=VALUE` that may differ between ranks (its network namespace).
// CanopyMPITests compares VALUE across ranks (every rank must print the same) and wants status=ok everywhere and
// a `check=done` line from every rank. Arguments: none (every check), `launch` (only whether mpirun started it),
// `die` (rank 1 exits with status 3 while the others wait in a barrier: mpirun must end the job), `bench` (the
// time of a float sum by size, printed by rank 0).
#if MPI
import CanopyMPI
import CanopyTrain
import Foundation

let mode = CommandLine.arguments.dropFirst().first ?? "all"
// Sums of more than 100,000 elements go in pieces (1,000,003 in eleven, the last of 3 elements); `bench` measures
// the default pieces.
let piece = mode == "bench" ? 1 << 24 : 100_000
guard let group = try MPIProcessGroup.startIfLaunchedByMPIRun(reductionPiece: piece) else {
    print("probe rank=0 size=1 check=launched value=false status=ok")
    exit(0)
}
var failures = 0

/// Prints one result line in a single write, so that lines of different ranks do not interleave.
@MainActor func report(_ check: String, _ value: String, ok: Bool, _ detail: String = "") {
    if !ok { failures += 1 }
    let line = "probe rank=\(group.rank) size=\(group.size) check=\(check) value=\(value) status=\(ok ? "ok" : "FAIL")"
        + (detail.isEmpty ? "" : " \(detail)") + "\n"
    FileHandle.standardOutput.write(Data(line.utf8))
}

/// FNV-1a over the bytes of `values`: equal on two ranks exactly when their bits are.
func hash<T: BitwiseCopyable>(_ values: some Collection<T>) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for value in values {
        withUnsafeBytes(of: value) { for byte in $0 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 } }
    }
    return String(h, radix: 16)
}

/// Rank `rank`'s `i`-th summand: signs and magnitudes (2^-12 to 2^12) that make float sums depend on their order.
func summand(rank: Int, _ i: Int) -> Double {
    var z = UInt64(truncatingIfNeeded: rank &* 0x9E37_79B9 &+ i &* 0x85EB_CA6B) &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    let mantissa = 1 + Double(z & (1 << 52 - 1)) / Double(1 << 52)
    let exponent = Int((z >> 52 & 0x7FF) % 25) - 12
    return (z >> 63 == 0 ? 1 : -1) * mantissa * pow(2, Double(exponent))
}

/// Checks a sum against the exact one within the rounding error of `size` additions, and counts the elements
/// whose float sum over ranks 0, 1, ... differs in its bits from the sum in reverse rank order.
@MainActor func checkSum<T: BinaryFloatingPoint & BitwiseCopyable>(_ name: String, _ result: [T]) {
    var worst = 0.0
    var orderSensitive = 0
    for i in result.indices {
        var exact = 0.0, compensation = 0.0, scale = 0.0, forward = T(0), backward = T(0)
        for rank in 0..<group.size {
            let term = Double(T(summand(rank: rank, i)))
            let sum = exact + term       // Neumaier's compensated sum: exact enough to judge a Double result
            compensation += abs(exact) >= abs(term) ? (exact - sum) + term : (term - sum) + exact
            exact = sum
            scale += abs(term)
            forward += T(term)
            backward += T(summand(rank: group.size - 1 - rank, i))
        }
        exact += compensation
        worst = max(worst, abs(Double(result[i]) - exact) / (scale * Double(T.ulpOfOne) * Double(group.size)))
        if forward != backward { orderSensitive += 1 }
    }
    report(name, hash(result), ok: worst <= 1, "error/bound=\(worst) order-sensitive=\(orderSensitive)")
}

@MainActor func run() throws {
    report("launched", "true", ok: MPIProcessGroup.launchedByMPIRun())
    // Which network namespace this rank runs in (the TCP test puts the ranks in two); differs between ranks.
    let namespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")) ?? "unknown"
    FileHandle.standardOutput.write(Data("probe rank=\(group.rank) size=\(group.size) info=netns value=\(namespace)\n".utf8))
    if mode == "launch" { return }
    if mode == "bench" {
        // Not a test (timing never is): the time of one float sum over the group by size, the median of 9 after a
        // warm-up, for the α–β model of allreduce (latency α, per-byte cost β).
        for count in [1, 256, 4096, 65_536, 262_144, 1 << 20, 4 << 20, 16 << 20] {
            var values = [Float](repeating: 1, count: count)
            var times: [Double] = []
            for _ in 0..<10 {
                try group.barrier()
                let start = Date()
                try values.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
                times.append(Date().timeIntervalSince(start))
            }
            let median = times.dropFirst().sorted()[4]
            if group.rank == 0 {
                print("bench ranks=\(group.size) floats=\(count) bytes=\(count * 4) seconds=\(median) "
                      + "GB/s=\(Double(count * 4) / median / 1e9)")
            }
        }
        return
    }
    if mode == "die" {
        if group.rank == 1 { exit(3) }
        try group.barrier()
        report("survived-dead-peer", "true", ok: false)
        return
    }
    // Awkward counts; 33, 129 and 1,000,002 are multiples of 3 (and 1,000,002 of 2): summed without padding.
    let counts = [1, 7, 33, 129, 1_000_003, 1_000_002]
    for count in counts {
        var floats = (0..<count).map { Float(summand(rank: group.rank, $0)) }
        try floats.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
        checkSum("allreduce-float.\(count)", floats)
        var doubles = (0..<count).map { summand(rank: group.rank, $0) }
        try doubles.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
        checkSum("allreduce-double.\(count)", doubles)
    }

    // Buckets of one arena started back to back, waited in order; each must equal its blocking sum bit for bit.
    let total = counts.reduce(0, +)
    let arena = UnsafeMutableBufferPointer<Float>.allocate(capacity: total)
    defer { arena.deallocate() }
    for i in 0..<total { arena[i] = Float(summand(rank: group.rank, i)) }
    var blocking = Array(arena)
    var requests: [CollectiveRequest] = []
    var start = 0
    for count in counts.reversed() {
        requests.append(group.startAllreduceSum(UnsafeMutableBufferPointer(rebasing: arena[start..<start + count])))
        start += count
    }
    for request in requests { try request.wait() }
    start = 0
    for count in counts.reversed() {
        try blocking[start..<start + count].withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
        start += count
    }
    report("async-buckets", hash(arena), ok: Array(arena) == blocking)

    // Broadcast from the last rank (not the default root 0), raw bytes and an array.
    let root = group.size - 1
    var bytes = [UInt8]((0..<1001).map { UInt8(truncatingIfNeeded: group.rank == root ? $0 &* 7 : 0xAA) })
    try bytes.withUnsafeMutableBytes { try group.broadcast($0, from: root) }
    report("broadcast", hash(bytes), ok: bytes == (0..<1001).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    let array = try group.broadcast(group.rank == 0 ? [1.5, -2, 3] : [Double](), from: 0)
    report("broadcast-array", hash(array), ok: array == [1.5, -2, 3])

    // Allgather of rank-dependent counts, rank 0's empty.
    let gathered = try group.allgather((0..<group.rank * 3).map { Float(group.rank * 1000 + $0) })
    let expected = (0..<group.size).map { r in (0..<r * 3).map { Float(r * 1000 + $0) } }
    report("allgather", hash(gathered.flatMap { [Float($0.count)] + $0 }), ok: gathered == expected)

    // Barrier: rank 0 arrives half a second late; the others must wait for it.
    try group.barrier()
    let before = Date()
    if group.rank == 0 { Thread.sleep(forTimeInterval: 0.5) }
    try group.barrier()
    let waited = Date().timeIntervalSince(before)
    report("barrier", "true", ok: waited >= 0.4, "waited=\(waited)")

    // An MPI error becomes a thrown MPIError naming the call and Open MPI's text (root out of range).
    do {
        var byte: UInt8 = 0
        try withUnsafeMutableBytes(of: &byte) { try group.broadcast($0, from: group.size) }
        report("error", "none", ok: false, "an invalid root did not throw")
    } catch let error as MPIError {
        report("error", "thrown", ok: "\(error)".contains("MPI_Bcast failed"), "\(error)")
    }

    try group.shutdown()
    try group.shutdown()
    do {
        try group.barrier()
        report("after-shutdown", "none", ok: false, "barrier after shutdown did not throw")
    } catch let error as MPIError {
        report("after-shutdown", "thrown", ok: "\(error)".contains("after the MPI process group was shut down"))
    }
}

do {
    try run()
} catch {
    report("error", "unexpected", ok: false, "\(error)")
    exit(1)
}
if mode != "die" { try group.shutdown() }
report("done", "true", ok: failures == 0, "failures=\(failures)")
exit(failures == 0 ? 0 : 1)
#else
import Foundation

FileHandle.standardError.write(Data("canopy-mpi-probe: built without the MPI trait; build with --traits MPI\n".utf8))
exit(1)
#endif
