@testable import CanopyModel
import Foundation
import XCTest

/// `data:` sources written as mappings (image folders, NumPy arrays) and `input.augment:`.
final class DataFileSourceTests: XCTestCase {
    private func model(data: String, input: String = "{shape: [3, 8, 8]}") -> String {
        """
        name: m
        data: \(data)
        input: \(input)
        shared: [flatten]
        tasks:
          t: {head: [{dense: 2}], loss: cross_entropy}
        train: {optimizer: {adam: {lr: 0.01}}, epochs: 1, batch_size: 4}
        """
    }

    func testImageSourcesForTrainValidationAndTest() throws {
        let spec = try parseModel(model(data: "{train: {images: img/labels.csv}, validation: {images: /v/val.CSV, "
                                            + "file_column: path}, test: {images: img/test.csv}}"))
        XCTAssertEqual(spec.data.source, .images(labels: URL(fileURLWithPath: "/models/img/labels.csv"), fileColumn: "file"))
        XCTAssertEqual(spec.data.validationSource, .images(labels: URL(fileURLWithPath: "/v/val.CSV"), fileColumn: "path"))
        XCTAssertEqual(spec.data.testSource, .images(labels: URL(fileURLWithPath: "/models/img/test.csv"), fileColumn: "file"))
    }

    func testNumpySources() throws {
        let spec = try parseModel(model(data: "{source: {features: x.npy, labels: {t: y.npy, u: /a/u.NPY}}}"))
        XCTAssertEqual(spec.data.source, .numpy(features: URL(fileURLWithPath: "/models/x.npy"),
                                                labels: ["t": URL(fileURLWithPath: "/models/y.npy"),
                                                         "u": URL(fileURLWithPath: "/a/u.NPY")]))
    }

    func testBadMappingSourcesArePlaced() {
        assertModelError(model(data: "{source: {images: labels.txt}}"), line: 2, keyPath: "data.source.images",
                         "expected the path of a .csv file")
        assertModelError(model(data: "{source: {images: a.csv, features: x.npy}}"), line: 2, keyPath: "data.source",
                         "'features:' and 'labels:' belong to NumPy sources")
        assertModelError(model(data: "{source: {features: x.npy}}"), line: 2, keyPath: "data.source.labels",
                         "missing required key 'labels'")
        assertModelError(model(data: "{source: {features: x.csv, labels: {t: y.npy}}}"), line: 2,
                         keyPath: "data.source.features", "expected the path of a .npy file")
        assertModelError(model(data: "{source: {features: x.npy, labels: y.npy}}"), line: 2,
                         keyPath: "data.source.labels", "a mapping from label column to .npy file")
        assertModelError(model(data: "{source: {file_column: f, features: x.npy}}"), line: 2, keyPath: "data.source",
                         "'file_column:' belongs to an image source")
        assertModelError(model(data: "{source: {imgs: a.csv}}"), line: 2, keyPath: "data.source.imgs", "did you mean 'images'")
        assertModelError(model(data: "{source: {}}"), line: 2, keyPath: "data.source", "{images: images/labels.csv}")
    }

    func testAugment() throws {
        let spec = try parseModel(model(data: "{source: a.csv}",
                                        input: "{shape: [3, 8, 8], augment: {flip: horizontal, crop: {padding: 4}}}"))
        XCTAssertEqual(spec.input.augment, AugmentSpec(horizontalFlip: true, cropPadding: 4))
        XCTAssertNil(try parseModel(model(data: "{source: a.csv}")).input.augment)
        assertModelError(model(data: "{source: a.csv}", input: "{shape: [192], augment: {flip: horizontal}}"),
                         line: 3, keyPath: "input.augment", "[channels, height, width]")
        assertModelError(model(data: "{source: a.csv}", input: "{shape: [3, 8, 8], augment: {flip: vertical}}"),
                         line: 3, keyPath: "input.augment.flip", "horizontal")
        assertModelError(model(data: "{source: a.csv}", input: "{shape: [3, 8, 6], augment: {crop: {padding: 7}}}"),
                         line: 3, keyPath: "input.augment.crop.padding", "in 0...6")
        assertModelError(model(data: "{source: a.csv}", input: "{shape: [3, 8, 8], augment: {rotate: 5}}"),
                         line: 3, keyPath: "input.augment.rotate", "expected one of: flip, crop")
    }
}
