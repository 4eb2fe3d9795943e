import Foundation

/// The `log:` section.
extension SpecDecoder {
    /// `log: {tensorboard: DIR}`: a non-empty folder path.
    func logSpec(_ node: DocumentNode) throws -> LogSpec {
        let f = try fields(node, "log", allowed: ["tensorboard"], what: "a mapping such as {tensorboard: runs/tb}")
        var log = LogSpec()
        if let folder = f.optional("tensorboard") {
            let path = try string(folder, "log.tensorboard")
            guard !path.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw error(folder, "log.tensorboard", "expected a folder for the TensorBoard event files, found an empty string")
            }
            log.tensorboard = path
        }
        return log
    }
}
