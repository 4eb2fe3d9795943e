import Canopy
import Foundation
import XCTest

/// Categorical inputs (`input.categorical:`): one-hot and index features from categories fitted on the training
/// rows, unknown categories at predict time, saved and read back, and placed errors.
final class CategoricalInputTests: ScratchTestCase {
    private func encoder(_ encoding: CategoricalEncodingKind) -> CategoricalEncoder {
        CategoricalEncoder.fitted(CategoricalInputSpec(columns: ["color", "city"], encoding: encoding),
                                  on: [["red", "blue", "red"], ["Oslo", "Lima", "Oslo"]])
    }

    private func features(_ e: CategoricalEncoder, _ row: [String]) -> [Float] {
        var out = ArraySlice([Float](repeating: -1, count: e.featureCount))
        e.features(row, into: &out)
        return Array(out)
    }

    func testOneHotAndIndexWithUnknownCategories() {
        let onehot = encoder(.onehot)
        XCTAssertEqual(onehot.categories, [["blue", "red"], ["Lima", "Oslo"]])
        XCTAssertEqual(onehot.featureCount, 4)
        XCTAssertEqual(onehot.featureNames, ["color=blue", "color=red", "city=Lima", "city=Oslo"])
        XCTAssertEqual(features(onehot, ["red", "Lima"]), [0, 1, 1, 0])
        XCTAssertEqual(features(onehot, ["green", "Oslo"]), [0, 0, 0, 1], "an unknown category is all zeros")
        let index = encoder(.index)
        XCTAssertEqual(index.featureCount, 2)
        XCTAssertEqual(features(index, ["blue", "Oslo"]), [2, 3])
        XCTAssertEqual(features(index, ["green", "Paris"]), [1, 1], "an unknown category is id 1")
    }

    private func model(_ input: String, data: String = "{source: d.csv, validation: 0.25, seed: 1}") throws -> String {
        try write("""
        name: c
        data: \(data)
        input: \(input)
        shared: [{dense: 4}, relu]
        tasks: {label: {head: [{dense: 2}], loss: cross_entropy, metrics: [accuracy]}}
        train: {optimizer: {adam: {lr: 0.05}}, batch_size: 8, epochs: 10, seed: 1}
        """)
    }

    private func writeData() throws {
        var lines = ["x,color,city,label"]
        for i in 0..<40 { lines.append("\(Double(i) / 40),\(["red", "blue", "green"][i % 3]), \(["Oslo", "Lima"][i % 2]) ,\(i % 3 == 0 ? "yes" : "no")") }
        try write(lines.joined(separator: "\n") + "\n", to: "d.csv")
    }

    func testCategoriesTrainSaveAndPredictWithUnknowns() throws {
        try writeData()
        let file = try model("{shape: [6], columns: [x], categorical: {columns: [color, city], encoding: onehot}}")
        let spec = try ModelFile.load(contentsOf: URL(fileURLWithPath: file))
        let data = try ModelData.load(for: spec)
        XCTAssertEqual(data.train.featureNames, ["x", "color=blue", "color=green", "color=red", "city=Lima", "city=Oslo"])
        XCTAssertEqual(data.train.labels["label"]?.classNames, ["no", "yes"], "string labels still become classes")
        let trained = try canopy("train", file, "--backend", "cpu", "--out", path("run"))
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let parameters = path("run") + "/parameters.safetensors"
        let saved = try SafeTensorsFile.read(from: URL(fileURLWithPath: parameters)).metadata
        let reread = try XCTUnwrap(try InputEncoding(metadata: saved, input: spec.input, file: parameters))
        XCTAssertEqual(reread, data.encoding)
        try write("x,color,city\n0.5,purple,Oslo\n0.1,red,Paris\n", to: "new.csv")
        let raw = try CSVDataset.load(url: URL(fileURLWithPath: path("new.csv")), inputColumns: ["x"], labelColumns: [],
                                      categoryColumns: ["color", "city"])
        XCTAssertEqual(reread.apply(to: raw).features, [0.5, 0, 0, 0, 0, 1, 0.1, 0, 0, 1, 0, 0])
        let predicted = try canopy("predict", file, "--backend", "cpu", "--checkpoint", parameters, "--data", path("new.csv"))
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        XCTAssertEqual(predicted.stdout.split(separator: "\n").count, 3, predicted.stdout)
    }

    func testIndexEncodingAndPlacedErrors() throws {
        try writeData()
        let index = try ModelFile.load(contentsOf: URL(fileURLWithPath:
            try model("{shape: [3], columns: [x], categorical: {columns: [color, city], encoding: index}}")))
        let data = try ModelData.load(for: index)
        XCTAssertEqual(Array(data.train.features.prefix(3)), [0.025, 2, 2], "row 1: x, blue → 2, Lima → 2")

        func refused(_ input: String, _ parts: String...) throws {
            do {
                _ = try RunPlan(try ModelFile.load(contentsOf: URL(fileURLWithPath: try model(input))), device: nil)
                XCTFail("accepted \(input)")
            } catch {
                for part in parts { XCTAssertTrue("\(error)".contains(part), "\(input): \(error)") }
            }
        }
        try refused("{shape: [5], columns: [x], categorical: {columns: [color, city]}}",
                    "model.yaml:3:", "input.shape", "give 6", "shape: [6]", "color: 3, city: 2")
        try refused("{shape: [3], categorical: {columns: [color, city], encoding: ordinal}}", "input.categorical.encoding")
        try refused("{shape: [4], columns: [x], categorical: {columns: [color, color], encoding: index}}",
                    "input.categorical.columns[1]", "already")
        try refused("{shape: [1], categorical: {columns: [label], encoding: index}}", "label")
        try refused("{shape: [1], categorical: {columns: [color], encoding: index}, normalize: standard}",
                    "model.yaml:3:", "input.normalize", "ids")
        try refused("{shape: [2], columns: [x], categorical: {columns: [color], encoding: index}, scale: 0.5}",
                    "input.scale", "ids")
        let builtin = try write("""
        name: b
        data: {source: builtin:digits}
        input: {shape: [64], categorical: {columns: [p0]}}
        shared: [{dense: 4}]
        tasks: {digit: {head: [{dense: 10}], loss: cross_entropy}}
        train: {optimizer: {adam: {lr: 0.01}}, batch_size: 8, epochs: 1, seed: 1}
        """)
        XCTAssertThrowsError(try RunPlan(try ModelFile.load(contentsOf: URL(fileURLWithPath: builtin)), device: nil)) {
            XCTAssertTrue("\($0)".contains("input.categorical") && "\($0)".contains("need CSV data"), "\($0)")
        }
        try write("x,color,label\n1,red,yes\n2,,no\n3,blue,no\n", to: "d.csv")
        try refused("{shape: [4], columns: [x], categorical: {columns: [color]}}", "d.csv:3", "color", "empty cell")
    }
}
