import Foundation

/// `data:` sources written as mappings (image folders and NumPy arrays) and `input.augment:`.
extension SpecDecoder {
    /// `{images: labels.csv, file_column: file}` or `{features: x.npy, labels: {task_label: y.npy, ...}}`; paths
    /// relative to the model file.
    func fileDataSource(_ node: DocumentNode, _ path: String, baseDirectory: URL?) throws -> DataSource {
        let what = "a path, or a mapping such as {images: images/labels.csv} or "
            + "{features: x.npy, labels: {digit: y.npy}}"
        let f = try fields(node, path, allowed: ["images", "file_column", "features", "labels"], what: what)
        if let images = f.optional("images") {
            if let other = f.entries["features"] ?? f.entries["labels"] {
                throw error(other.key, path, "an image source is {images: labels.csv, file_column: file}; "
                                + "'features:' and 'labels:' belong to NumPy sources")
            }
            let csv = try string(images, "\(path).images")
            guard csv.lowercased().hasSuffix(".csv") else {
                throw error(images, "\(path).images", "expected the path of a .csv file naming the images and their "
                                + "labels, found '\(csv.truncatedForMessage)'")
            }
            let column = try f.optional("file_column").map { try string($0, "\(path).file_column") } ?? "file"
            return .images(labels: Self.resolve(csv, against: baseDirectory), fileColumn: column)
        }
        if let column = f.entries["file_column"] {
            throw error(column.key, path, "'file_column:' belongs to an image source {images: labels.csv}")
        }
        guard f.entries["features"] != nil || f.entries["labels"] != nil else {
            throw error(node, path, "expected \(what)")
        }
        let features = try npyPath(try f.required("features"), "\(path).features", baseDirectory: baseDirectory)
        let labelsNode = try f.required("labels")
        let pairs = try mappingPairs(labelsNode, "\(path).labels",
                                     what: "a mapping from label column to .npy file, such as {digit: y.npy}")
        try checkDuplicates(pairs, "\(path).labels")
        var labels: [String: URL] = [:]
        for pair in pairs {
            let name = try keyText(pair.key, "\(path).labels")
            labels[name] = try npyPath(pair.value, "\(path).labels.\(name)", baseDirectory: baseDirectory)
        }
        return .numpy(features: features, labels: labels)
    }

    private func npyPath(_ node: DocumentNode, _ path: String, baseDirectory: URL?) throws -> URL {
        let text = try string(node, path)
        guard text.lowercased().hasSuffix(".npy") else {
            throw error(node, path, "expected the path of a .npy file, found '\(text.truncatedForMessage)'")
        }
        return Self.resolve(text, against: baseDirectory)
    }

    /// `augment: {flip: horizontal, crop: {padding: 4}}`, checked against `shape` (which must be `[C, H, W]`).
    func augmentSpec(_ node: DocumentNode, shape: [Int]) throws -> AugmentSpec {
        let f = try fields(node, "input.augment", allowed: ["flip", "crop"],
                           what: "a mapping such as {flip: horizontal, crop: {padding: 4}}")
        guard shape.count == 3 else {
            throw error(node, "input.augment", "augmentation is for image inputs of shape [channels, height, width]; "
                            + "input.shape is \(shape)")
        }
        var spec = AugmentSpec()
        if let flip = f.optional("flip") {
            spec.horizontalFlip = try word(flip, "input.augment.flip", among: ["horizontal", "none"],
                                           what: "flip") == "horizontal"
        }
        if let crop = f.optional("crop") {
            let c = try fields(crop, "input.augment.crop", allowed: ["padding"], what: "a mapping such as {padding: 4}")
            let paddingNode = try c.required("padding")
            let padding = try int(paddingNode, "input.augment.crop.padding")
            let limit = min(shape[1], shape[2])
            guard padding >= 0, padding <= limit else {
                throw error(paddingNode, "input.augment.crop.padding", "the crop's padding must be in 0...\(limit) "
                                + "(the image's smaller side), got \(padding)")
            }
            spec.cropPadding = padding
        }
        return spec
    }
}
