import CanopyTestSupport
import XCTest

/// Two ranks on two "hosts" over TCP: two network namespaces joined by a veth pair with private addresses, a
/// hostfile naming the addresses, Open MPI's launcher reaching the second "host" through an rsh agent that runs
/// the command in its namespace, the TCP transport only (no shared memory) and the out-of-band and TCP traffic
/// held to the veth addresses, so every byte crosses a network stack. Needs root (namespaces); CI runs as root.
final class TCPTests: XCTestCase {
    func testTwoHostsOverTCPAgreeOnEveryCollective() throws {
        guard let mpi = MPIRun.find() else { return }
        try XCTSkipUnless(MPIRun.isRoot, "making network namespaces needs root (CI runs as root)")
        let network = try TwoHostNetwork()
        defer { network.remove() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("canopy-mpi-tcp-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let sentBefore = try network.bytesSent()
        let started = Date()
        let (finished, agentCalls) = try network.run(mpi, [mpi.binary("canopy-mpi-probe")], in: folder)
        XCTAssertFalse(finished.timedOut, "mpirun over TCP hung:\n\(finished.output)")
        XCTAssertEqual(finished.status, 0, finished.output)
        let output = ProbeOutput(finished.output)
        output.assertAllChecksAgree(ranks: 2, context: "mpirun over TCP")
        print("mpirun over TCP: \(output.lines.count) probe lines in \(Date().timeIntervalSince(started)) s")

        // Each rank ran in its own host's namespace, the second one started through the agent, and the
        // collectives' bytes crossed the veth pair (the probe's sums alone move several megabytes).
        XCTAssertEqual(output.info("netns"), [0: try network.namespaceIdentity(0), 1: try network.namespaceIdentity(1)])
        XCTAssertTrue(agentCalls.contains(network.addresses[1]) && agentCalls.contains("orted"), agentCalls)
        let sent = try network.bytesSent() - sentBefore
        XCTAssertGreaterThan(sent, 8_000_000, "bytes sent over the veth pair")
    }
}

/// Two network namespaces, each one end of a veth pair with an address of a private /24; removed by ``remove()``.
struct TwoHostNetwork {
    /// Runs `command` (a program and its arguments) as two ranks, one on each "host": `mpirun` in the first
    /// namespace with a hostfile naming the two addresses (one slot each), reaching the second host through an rsh
    /// agent that runs Open MPI's daemon in the second namespace, with the TCP transport only and the out-of-band
    /// and TCP traffic held to the veth subnet. Writes the hostfile and the agent into `folder`; returns how mpirun
    /// finished and the agent's calls.
    func run(_ mpi: MPIRun, _ command: [String], in folder: URL, timeout: TimeInterval = 180) throws -> (BoundedRun, String) {
        let hostfile = folder.appendingPathComponent("hostfile")
        try "\(addresses[0]) slots=1\n\(addresses[1]) slots=1\n".write(to: hostfile, atomically: true, encoding: .utf8)
        // Open MPI calls the agent as `agent [options] HOST COMMAND...` (as it would ssh); the agent logs the call
        // and runs COMMAND (the remote daemon, orted) in the second host's namespace.
        let agent = folder.appendingPathComponent("rsh-agent")
        let log = folder.appendingPathComponent("rsh-agent.log")
        try """
            #!/bin/sh
            echo "$*" >> '\(log.path)'
            while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
            shift
            exec ip netns exec '\(namespaces[1])' /bin/sh -c "$*"

            """.write(to: agent, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: agent.path)
        let arguments = ["--hostfile", hostfile.path, "--map-by", "node", "--mca", "plm_rsh_agent", agent.path,
                         "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", subnet,
                         "--mca", "oob_tcp_if_include", subnet]
        let finished = try runWithTimeout("/usr/bin/env", ["ip", "netns", "exec", namespaces[0], mpi.mpirun]
                                              + MPIRun.options(ranks: 2) + arguments + command, timeout: timeout)
        return (finished, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    let namespaces: [String]
    let interfaces = ["cmpi0", "cmpi1"]
    let addresses = ["10.251.77.1", "10.251.77.2"]
    let subnet = "10.251.77.0/24"

    /// Makes the namespaces (named after this process, so concurrent runs do not collide) and the link; removes
    /// whatever it made when a step fails.
    init() throws {
        let id = "canopy-mpi-\(getpid())"
        namespaces = [id + "-a", id + "-b"]
        Self.removeLeftovers()
        do {
            for namespace in namespaces { try ip(["netns", "add", namespace]) }
            try ip(["link", "add", interfaces[0], "netns", namespaces[0], "type", "veth",
                    "peer", "name", interfaces[1], "netns", namespaces[1]])
            for host in 0..<2 {
                try ip(["-n", namespaces[host], "addr", "add", addresses[host] + "/24", "dev", interfaces[host]])
                try ip(["-n", namespaces[host], "link", "set", interfaces[host], "up"])
                try ip(["-n", namespaces[host], "link", "set", "lo", "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    /// Deletes both namespaces (the veth pair goes with them). Safe to call after a partial setup.
    func remove() {
        for namespace in namespaces { try? ip(["netns", "delete", namespace]) }
    }

    /// Deletes the namespaces of earlier runs whose process no longer exists (a run killed before its cleanup).
    static func removeLeftovers() {
        guard let list = try? runWithTimeout("/usr/bin/env", ["ip", "netns", "list"], timeout: 30) else { return }
        for line in list.output.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            let parts = name.split(separator: "-")
            guard name.hasPrefix("canopy-mpi-"), parts.count == 4, let pid = Int32(parts[2]), kill(pid, 0) != 0,
                  errno == ESRCH else { continue }
            _ = try? runWithTimeout("/usr/bin/env", ["ip", "netns", "delete", name], timeout: 30)
        }
    }

    /// Bytes the first host's end of the link has sent.
    func bytesSent() throws -> Int {
        let finished = try runWithTimeout("/usr/bin/env", ["ip", "netns", "exec", namespaces[0], "cat",
                                                "/sys/class/net/\(interfaces[0])/statistics/tx_bytes"], timeout: 30)
        guard finished.status == 0, let bytes = Int(finished.output.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw NetworkSetupError(command: "read tx_bytes", output: finished.output) }
        return bytes
    }

    /// How `/proc/self/ns/net` reads inside host `index`'s namespace (what the probe prints as `info=netns`).
    func namespaceIdentity(_ index: Int) throws -> String {
        let finished = try runWithTimeout("/usr/bin/env", ["ip", "netns", "exec", namespaces[index], "readlink",
                                                "/proc/self/ns/net"], timeout: 30)
        guard finished.status == 0 else { throw NetworkSetupError(command: "readlink", output: finished.output) }
        return finished.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func ip(_ arguments: [String]) throws {
        let finished = try runWithTimeout("/usr/bin/env", ["ip"] + arguments, timeout: 30)
        guard finished.status == 0 else {
            throw NetworkSetupError(command: "ip " + arguments.joined(separator: " "), output: finished.output)
        }
    }
}

/// A command setting up the two-host network failed.
struct NetworkSetupError: Error, CustomStringConvertible {
    var command: String
    var output: String
    var description: String { "\(command) failed: \(output)" }
}
