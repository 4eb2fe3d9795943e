import Canopy
import Foundation
import XCTest

/// `canopy predict --data` and `canopy evaluate --data` on images and NumPy arrays: a model trained on a labels CSV
/// naming images reads another such CSV the same way, and a `.npy` path is a features array.
final class CommandLineImageDataTests: ScratchTestCase {
    func testPredictAndEvaluateReadImagesLikeTheModelFile() throws {
        let shapes = TestModels.examples.appendingPathComponent("data/shapes/test.csv").path
        let model = try write("""
            name: tiny-shapes
            data: {source: {images: \(shapes)}, validation: 0.2, seed: 1}
            input: {shape: [3, 32, 32]}
            shared: [{conv2d: {filters: 2, kernel: 3, stride: 2}}, relu, global_avgpool]
            tasks:
              color: {head: [{dense: 4}], loss: cross_entropy, metrics: [accuracy]}
            train: {optimizer: {adam: {lr: 0.01}}, batch_size: 32, epochs: 1, seed: 1}
            """)
        let trained = try canopy("train", model, "--backend", "cpu", "--out", path("run"))
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let parameters = path("run") + "/parameters.safetensors"

        let predicted = try canopy("predict", model, "--checkpoint", parameters, "--backend", "cpu",
                                   "--data", shapes, "--out", path("p.csv"))
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        let lines = try String(contentsOfFile: path("p.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 301, "a header and one line per image")
        XCTAssertTrue(["red", "green", "blue", "yellow"].contains(String(lines[1].split(separator: ",")[1])),
                      "predictions print class names: \(lines[1])")

        let evaluated = try canopy("evaluate", model, "--checkpoint", parameters, "--backend", "cpu", "--data", shapes)
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        XCTAssertTrue(evaluated.stdout.contains("(300 labelled rows)"), evaluated.stdout)
    }

    func testPredictReadsANumPyFeaturesArray() throws {
        let model = try write("""
            name: npy
            data: {source: builtin:digits}
            input: {shape: [64], scale: 0.0625}
            shared: [{dense: 8}, relu]
            tasks:
              digit: {head: [{dense: 10}], loss: cross_entropy}
            train: {optimizer: adam, batch_size: 64, epochs: 1, seed: 1}
            """)
        let trained = try canopy("train", model, "--backend", "cpu", "--out", path("run"))
        XCTAssertEqual(trained.status, 0, trained.stderr)
        // Three rows of 64 float32 features in NumPy's format 1.0.
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 64), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var file = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        file.append(Data(header.utf8))
        for value in (0..<192).map({ Float($0 % 17) }) { withUnsafeBytes(of: value.bitPattern.littleEndian) { file.append(contentsOf: $0) } }
        try file.write(to: URL(fileURLWithPath: path("x.npy")))
        let predicted = try canopy("predict", model, "--checkpoint", path("run") + "/parameters.safetensors",
                                   "--backend", "cpu", "--data", path("x.npy"))
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        XCTAssertEqual(predicted.stdout.split(separator: "\n").count, 4, predicted.stdout)
    }
}
