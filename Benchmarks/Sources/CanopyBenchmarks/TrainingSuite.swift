import Canopy
import Foundation

/// Training benchmarks: one epoch of an example model file (its steps, then validation and diagnostics), per
/// backend, so the ratio compares whole training steps including per-launch overhead.
enum TrainingSuite {
    static let examples = ["digits.yaml", "digits-mlp.json", "mmoe-synthetic.yaml", "multidigits-pcgrad.yaml"]

    static func groups(on backend: Backend, examplesDirectory: URL) throws -> [(group: String, benchmark: Benchmark)] {
        try examples.map { name in
            let spec = try ModelFile.load(contentsOf: examplesDirectory.appendingPathComponent(name))
            let trainer = try Trainer(spec: spec, backend: backend)
            let steps = (trainer.data.train.rowCount + spec.train.batchSize - 1) / spec.train.batchSize
            let group = "train one epoch of \(name) (\(steps) steps of \(spec.train.batchSize), \(spec.train.weighting.keyword))"
            return (group, Benchmark(title: "\(group), \(backend.name)", work: Double(steps), unit: ("steps/s", 1),
                                     backend: backend) { _ = try trainer.runEpoch() })
        }
    }
}
