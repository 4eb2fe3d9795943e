import Foundation

/// An α–β model of data-parallel training steps with ring allreduce, to project the scaling efficiency measured
/// on this machine to many processes on a stated network.
///
/// - A ring allreduce of `m` bytes over `p` processes takes `2(p−1)·α + 2·(p−1)/p·m·β` (α the latency of one
///   message, β the seconds per byte of one link).
/// - A step computes for `compute` seconds (one process's share of a global batch, as measured here); its
///   backward pass is the last `backwardShare` of that time and produces the gradients evenly from the last
///   layer to the first. The gradients are summed in buckets of `bucket` bytes from the arena's end: each bucket
///   starts when the backward pass has produced it and the previous bucket's sum has finished (one communication
///   thread), as Canopy's ``GradientExchange`` does.
/// - The step waits for the last bucket; efficiency = `compute / (compute + wait)`.
struct ScalingModel {
    /// A network: the latency of one message and its bandwidth.
    struct Network {
        var name: String
        var latency: Double          // α, seconds
        var bytesPerSecond: Double   // 1/β
    }

    var compute: Double
    var gradientBytes: Double
    var backwardShare = 2.0 / 3.0

    /// Seconds of one ring allreduce of `bytes` over `processes`.
    static func allreduce(_ bytes: Double, processes p: Int, on network: Network) -> Double {
        guard p > 1 else { return 0 }
        let steps = Double(p - 1)
        return 2 * steps * network.latency + 2 * steps / Double(p) * bytes / network.bytesPerSecond
    }

    /// The seconds a step waits for its gradients beyond its backward pass, with buckets of `bucket` bytes.
    func wait(processes: Int, network: Network, bucket: Double) -> Double {
        guard processes > 1, gradientBytes > 0 else { return 0 }
        let backwardStart = compute * (1 - backwardShare), backward = compute * backwardShare
        var produced = 0.0, free = 0.0
        while produced < gradientBytes {
            let size = min(bucket, gradientBytes - produced)
            produced += size
            let ready = backwardStart + backward * produced / gradientBytes
            free = max(free, ready) + Self.allreduce(size, processes: processes, on: network)
        }
        return max(0, free - compute)
    }

    /// The bucket size (a power of two from 64 KiB to 256 MiB) that makes the step wait least, and the
    /// efficiency with it.
    func best(processes: Int, network: Network) -> (bucket: Double, efficiency: Double) {
        var best = (bucket: 0.0, efficiency: 0.0)
        var bucket = 65_536.0
        while bucket <= 268_435_456 {
            let efficiency = compute / (compute + wait(processes: processes, network: network, bucket: bucket))
            if efficiency > best.efficiency + 1e-12 { best = (bucket, efficiency) }
            bucket *= 2
        }
        return best
    }

    /// The networks the projection is stated for: 25 Gb/s Ethernet (TCP through the kernel: about 25 µs a
    /// message) and 200 Gb/s InfiniBand HDR (RDMA: about 1.5 µs), both at their line rate.
    static let statedNetworks = [
        Network(name: "25 Gb/s Ethernet", latency: 25e-6, bytesPerSecond: 25e9 / 8),
        Network(name: "200 Gb/s InfiniBand", latency: 1.5e-6, bytesPerSecond: 200e9 / 8),
    ]

    /// α and β from measured (bytes, seconds) of allreduces over `processes`: α from the smallest message (all
    /// latency), β from a least-squares line through the sizes from 256 KiB on (all bandwidth, where one noisy
    /// small size cannot tilt it).
    static func fit(_ samples: [(bytes: Double, seconds: Double)], processes p: Int, name: String) -> Network? {
        guard p > 1, let smallest = samples.min(by: { $0.bytes < $1.bytes }) else { return nil }
        let large = samples.filter { $0.bytes >= 262_144 }
        guard large.count >= 2 else { return nil }
        let steps = Double(p - 1)
        let n = Double(large.count)
        let mx = large.map(\.bytes).reduce(0, +) / n, my = large.map(\.seconds).reduce(0, +) / n
        let sxy = large.reduce(0) { $0 + ($1.bytes - mx) * ($1.seconds - my) }
        let sxx = large.reduce(0) { $0 + ($1.bytes - mx) * ($1.bytes - mx) }
        guard sxx > 0, sxy > 0 else { return nil }
        return Network(name: name, latency: smallest.seconds / (2 * steps),
                       bytesPerSecond: 2 * steps / Double(p) / (sxy / sxx))
    }
}
