import Foundation
import Canopy

/// One training workload of issue 8 (W1–W3): its model file in `Benchmarks/workloads/`, and the synthetic data
/// it trains on, which ``writeData(to:)`` generates deterministically as `.npy` arrays the peers read too.
struct Workload {
    /// A label column: its name and, for classification, its class count (nil: a regression target).
    struct Label {
        let name: String
        let classes: Int?
    }

    /// `w1`, `w2`, `w3`: also the model file's name and the peers' `--workload` argument.
    let id: String
    /// `W1 MLP 784→512→256, heads 10 and 5, batch 128`.
    let title: String
    let batchSize: Int
    /// Batches of data generated (the steps cycle over them in file order).
    let batches: Int
    /// Per example, as the model file's `input.shape`.
    let inputShape: [Int]
    let labels: [Label]

    static let all = [
        Workload(id: "w1", title: "W1 MLP 784→512→256, heads 10 and 5, batch 128", batchSize: 128, batches: 16,
                 inputShape: [784], labels: [Label(name: "a", classes: 10), Label(name: "b", classes: 5)]),
        Workload(id: "w2", title: "W2 CNN 2 conv + dense 128, heads 10 and 2, batch 64", batchSize: 64, batches: 16,
                 inputShape: [1, 28, 28], labels: [Label(name: "a", classes: 10), Label(name: "b", classes: 2)]),
        Workload(id: "w3", title: "W3 MMoE 8 experts of 64, 2 gates and towers, batch 512", batchSize: 512,
                 batches: 16, inputShape: [100], labels: [Label(name: "y1", classes: nil), Label(name: "y2", classes: nil)]),
    ]

    var rows: Int { batchSize * batches }

    /// Writes `x.npy` (`[rows] + inputShape`, float32 in [0, 1)) and one `<label>.npy` per label (a class index,
    /// or for regression a smooth function of the first features plus noise), the same on every run.
    func writeData(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var random = SeededRandom(seed: 0xC0FFEE &+ UInt64(id.utf8.last!))
        let width = inputShape.reduce(1, *)
        var features = [Float](repeating: 0, count: rows * width)
        for i in features.indices { features[i] = random.nextFloat() }
        try NPY.write(features, shape: [rows] + inputShape, to: directory.appendingPathComponent("x.npy"))
        for (k, label) in labels.enumerated() {
            var values = [Float](repeating: 0, count: rows)
            for row in 0..<rows {
                if let classes = label.classes {
                    values[row] = Float(Int(random.nextFloat() * Float(classes)) % classes)
                } else {
                    var sum: Float = 0
                    for j in 0..<8 { sum += features[row * width + (j + 4 * k) % width] * (j % 2 == 0 ? 1 : -1) }
                    values[row] = Float(sin(Double(sum))) + 0.01 * (random.nextFloat() - 0.5)
                }
            }
            try NPY.write(values, shape: [rows], to: directory.appendingPathComponent("\(label.name).npy"))
        }
    }
}

/// Writes NumPy `.npy` version 1.0 files of little-endian float32 in C order.
enum NPY {
    static func write(_ values: [Float], shape: [Int], to url: URL) throws {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // Magic (6) + version (2) + length (2) + header, padded with spaces and ended by a newline to 64 bytes.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBufferPointer { data.append(Data(buffer: $0)) }
        try data.write(to: url)
    }
}
