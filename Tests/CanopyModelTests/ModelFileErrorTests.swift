import XCTest
@testable import CanopyModel

/// Bad values and bad structure: each error names the file, line, column and key path.
final class ModelFileErrorTests: XCTestCase {
    func testUnknownNamesGetSuggestions() {
        assertModelError(base(replacing: "- dense: 16", with: "- dense2: 16"), line: 11, column: 5,
                         keyPath: "shared[4]", "unknown layer 'dense2'", "did you mean 'dense'?")
        assertModelError(base(replacing: "- relu", with: "- rleu"), line: 8, keyPath: "shared[1]",
                         "unknown layer 'rleu'", "did you mean 'relu'?")
        assertModelError(base(replacing: "{dense: 10}], loss: cross_entropy", with: "{dense: 10}], loss: cross_entopy"),
                         line: 13, keyPath: "tasks.digit.loss", "unknown loss 'cross_entopy'",
                         "did you mean 'cross_entropy'?")
        assertModelError(base(replacing: "loss: mse}", with: "loss: mse, metrics: [mse, maee]}"), line: 14,
                         keyPath: "tasks.value.metrics[1]", "unknown metric 'maee'", "did you mean 'mae'?")
        assertModelError(base(replacing: "{adam: {lr: 0.01}}", with: "{adamx: {lr: 0.01}}"), line: 16, column: 15,
                         keyPath: "train.optimizer", "unknown optimizer 'adamx'", "did you mean 'adam'?")
        assertModelError(base(replacing: "  epochs: 2", with: "  epoch: 2"), line: 18, column: 3,
                         keyPath: "train.epoch", "unknown key 'epoch'", "did you mean 'epochs'?")
        assertModelError(base(replacing: "{adam: {lr: 0.01}}", with: "{adam: {learning_rate: 0.01}}"), line: 16,
                         keyPath: "train.optimizer.adam.learning_rate", "unknown key 'learning_rate'",
                         "expected one of: lr, beta1, beta2, eps, weight_decay")
        assertModelError(base(replacing: "name: t", with: "name: t\nmodel_name: u"), line: 2, column: 1,
                         keyPath: "model_name", "unknown key 'model_name'")
        assertModelError(base(replacing: "{filters: 4, kernel: 3, padding: 1}", with: "{filters: 4, kernel: 3, pad: 1}"),
                         line: 7, keyPath: "shared[0].conv2d.pad", "unknown key 'pad'")
        assertModelError(base(replacing: "builtin:digits", with: "builtin:digts"), line: 3, column: 11,
                         keyPath: "data.source", "unknown built-in data set 'digts'", "did you mean 'digits'?")
        assertModelError(base(replacing: "builtin:digits", with: "data/x.npy"), line: 3, keyPath: "data.source",
                         "a path to a .csv file")
    }

    func testWrongTypes() {
        assertModelError(base(replacing: "filters: 4", with: "filters: \"4\""), line: 7, column: 23,
                         keyPath: "shared[0].conv2d.filters", "expected an integer", "the string \"4\"")
        assertModelError(base(replacing: "filters: 4", with: "filters: 4.5"), line: 7,
                         keyPath: "shared[0].conv2d.filters", "expected an integer, found '4.5'")
        assertModelError(base(replacing: "- dense: 16", with: "- dense: [16]"), line: 11,
                         keyPath: "shared[4].dense", "expected an integer, found a list")
        assertModelError(base(replacing: "batch_size: 8", with: "batch_size: eight"), line: 17,
                         keyPath: "train.batch_size", "expected an integer, found 'eight'")
        assertModelError(base(replacing: "{adam: {lr: 0.01}}", with: "{adam: {lr: .inf}}"), line: 16,
                         keyPath: "train.optimizer.adam.lr", "infinity and NaN are not allowed")
        assertModelError(base(replacing: "{adam: {lr: 0.01}}", with: "{adam: [0.01]}"), line: 16,
                         keyPath: "train.optimizer.adam", "expected Adam's settings", "found a list")
        assertModelError(base(replacing: "shape: [1, 8, 8]", with: "shape: {c: 1}"), line: 5,
                         keyPath: "input.shape", "expected a list of sizes, found a mapping")
        assertModelError(base(replacing: "  digit: {head: [{dense: 10}], loss: cross_entropy}\n  value: {head: [{dense: 1}], loss: mse}",
                              with: "  - digit"), line: 13, keyPath: "tasks",
                         "expected a mapping from task name to task, found a list")
        assertModelError(base(replacing: "{head: [{dense: 10}], loss: cross_entropy}", with: "cross_entropy"),
                         line: 13, keyPath: "tasks.digit", "expected a task mapping", "found 'cross_entropy'")
        assertModelError("- name\n- t\n", line: 1, keyPath: "", "expected a mapping with keys name, description, data")
        assertModelError(base(replacing: "- relu", with: "- relu: 1"), line: 8, keyPath: "shared[1].relu",
                         "'relu' takes no value")
        assertModelError(base(replacing: "- dense: 16", with: "- dense"), line: 11, keyPath: "shared[4]",
                         "'dense' needs a value, for example {dense: 64}")
        assertModelError(base(replacing: "- dense: 16", with: "- dense: 16\n    relu:"), line: 11,
                         keyPath: "shared[4]", "a layer has exactly one key", "dense, relu", "is a '-' missing?")
        assertModelError(base(replacing: "epochs: 2", with: "epochs: 2\n  seed: -1"),
                         line: 19, keyPath: "train.seed", "a seed must be an integer ≥ 0")
    }

    func testMissingRequiredKeys() {
        assertModelError(base(replacing: "name: t\n", with: ""), line: 1, column: 1, keyPath: "name",
                         "missing required key 'name'")
        assertModelError(base(replacing: "  shape: [1, 8, 8]", with: "  scale: 2"), line: 5, keyPath: "input.shape",
                         "missing required key 'shape'")
        assertModelError(base(replacing: "  optimizer: {adam: {lr: 0.01}}\n", with: ""), line: 16,
                         keyPath: "train.optimizer", "missing required key 'optimizer'")
        assertModelError(base(replacing: "  epochs: 2", with: "  epochs:"), line: 18, column: 3, keyPath: "train.epochs",
                         "'epochs' needs a value")
        assertModelError(base(replacing: "  digit: {head: [{dense: 10}], loss: cross_entropy}\n  value: {head: [{dense: 1}], loss: mse}",
                              with: "  {}"), line: 13, keyPath: "tasks", "at least one task")
        assertModelError(base(replacing: "{head: [{dense: 1}], loss: mse}", with: "{head: [{dense: 1}]}"), line: 14,
                         keyPath: "tasks.value.loss", "missing required key 'loss'")
        assertModelError(base(replacing: "{head: [{dense: 1}], loss: mse}", with: "{head: [], loss: mse}"), line: 14,
                         keyPath: "tasks.value.head", "a head needs at least one layer")
        assertModelError(base(replacing: "{adam: {lr: 0.01}}", with: "sgd"), line: 16, keyPath: "train.optimizer.sgd",
                         "sgd needs a learning rate")
        assertModelError(base(replacing: "{adam: {lr: 0.01}}", with: "{sgd: {momentum: 0.9}}"), line: 16,
                         keyPath: "train.optimizer.sgd.lr", "missing required key 'lr'")
        assertModelError(base(replacing: "filters: 4, ", with: ""), line: 7, keyPath: "shared[0].conv2d.filters",
                         "missing required key 'filters'")
    }

    func testDuplicateKeys() {
        assertModelError(base(replacing: "  epochs: 2", with: "  epochs: 2\n  epochs: 3"), line: 19, column: 3,
                         keyPath: "train.epochs", "duplicate key 'epochs' (first written at line 18)")
        assertModelError(base(replacing: "  value: {head", with: "  digit: {head"), line: 14, column: 3,
                         keyPath: "tasks.digit", "duplicate key 'digit' (first written at line 13)")
        assertModelError("{\"name\": \"a\", \"name\": \"b\"}", fileName: "d.json", line: 1, column: 15,
                         keyPath: "name", "duplicate key 'name'")
    }

    func testValueRanges() {
        let cases: [(String, String, Int, String, String)] = [
            ("filters: 4", "filters: 0", 7, "shared[0].conv2d.filters", "filters must be positive, got 0"),
            ("- dense: 16", "- dense: -3", 11, "shared[4].dense.units", "units must be positive, got -3"),
            ("- dense: 16", "- dense: 2000000", 11, "shared[4].dense.units", "absurdly large"),
            ("kernel: 3", "kernel: 3, stride: 0", 7, "shared[0].conv2d.stride", "stride must be positive"),
            ("padding: 1", "padding: 3", 7, "shared[0].conv2d.padding", "padding must be smaller than the kernel"),
            ("padding: 1", "padding: -1", 7, "shared[0].conv2d.padding", "padding must be at least 0"),
            ("maxpool: 2", "maxpool: {kernel: 2, stride: 0}", 9, "shared[2].maxpool.stride", "stride must be positive"),
            ("- relu", "- dropout: 1", 8, "shared[1].dropout", "dropout probability must be in [0, 1), got 1.0"),
            ("- relu", "- dropout: -0.1", 8, "shared[1].dropout", "dropout probability must be in [0, 1)"),
            ("builtin:digits", "builtin:digits\n  validation: 1", 4, "data.validation",
             "validation fraction must be in (0, 1), got 1.0"),
            ("builtin:digits", "builtin:digits\n  validation: 0", 4, "data.validation", "must be in (0, 1)"),
            ("batch_size: 8", "batch_size: 0", 17, "train.batch_size", "batch_size must be in 1...1048576, got 0"),
            ("epochs: 2", "epochs: 0", 18, "train.epochs", "epochs must be in 1...1048576, got 0"),
            ("{adam: {lr: 0.01}}", "{adam: {lr: 0}}", 16, "train.optimizer.adam.lr", "lr must be a finite number > 0"),
            ("{adam: {lr: 0.01}}", "{sgd: {lr: -1}}", 16, "train.optimizer.sgd.lr", "lr must be a finite number > 0"),
            ("{adam: {lr: 0.01}}", "{sgd: {lr: 0.1, momentum: 1}}", 16, "train.optimizer.sgd.momentum",
             "momentum must be in [0, 1), got 1.0"),
            ("{adam: {lr: 0.01}}", "{sgd: {lr: 0.1, momentum: -0.5}}", 16, "train.optimizer.sgd.momentum",
             "momentum must be in [0, 1)"),
            ("{adam: {lr: 0.01}}", "{adam: {lr: 0.1, beta2: 1}}", 16, "train.optimizer.adam.beta2", "beta2 must be in [0, 1)"),
            ("{adam: {lr: 0.01}}", "{adam: {weight_decay: -1}}", 16, "train.optimizer.adam.weight_decay", "≥ 0"),
            ("shape: [1, 8, 8]", "shape: [1, 0, 8]", 5, "input.shape[1]", "dimension must be positive, got 0"),
            ("shape: [1, 8, 8]", "shape: [1, 8, 2000000]", 5, "input.shape[2]", "absurdly large"),
            ("shape: [1, 8, 8]", "shape: [8, 8]", 5, "input.shape", "[features] or [channels, height, width]"),
            ("loss: mse}", "loss: mse, weight: -1}", 14, "tasks.value.weight", "weight must be a finite number ≥ 0"),
            ("loss: mse}", "loss: mse, label: \"\"}", 14, "tasks.value.label", "label is empty"),
            ("loss: mse}", "loss: mse, metrics: [mse, mse]}", 14, "tasks.value.metrics[1]", "'mse' is listed twice"),
            ("loss: mse}", "loss: mse, metrics: [accuracy]}", 14, "tasks.value.metrics[0]",
             "metric 'accuracy' does not fit a regression task"),
            ("loss: cross_entropy}", "loss: cross_entropy, metrics: [r2]}", 13, "tasks.digit.metrics[0]",
             "does not fit a classification task"),
            ("  value: {head", "  value.x: {head", 14, "tasks.value.x", "may only use letters, digits"),
            ("  epochs: 2", "  epochs: 99999999999999999999", 18, "train.epochs", "is too large"),
            ("  epochs: 2", "  epochs: 2\n  seed: 99999999999999999999", 19, "train.seed", "is larger than"),
            ("{adam: {lr: 0.01}}", "{adam: {lr: 1e39}}", 16, "train.optimizer.adam.lr", "too large for 32-bit floats"),
        ]
        for (old, new, line, keyPath, phrase) in cases {
            assertModelError(base(replacing: old, with: new), line: line, keyPath: keyPath, phrase)
        }
    }

    func testColumnsMustMatchTheShape() {
        assertModelError(base(replacing: "shape: [1, 8, 8]", with: "shape: [3]\n  columns: [a, b]")
            .replacingOccurrences(of: "  - conv2d: {filters: 4, kernel: 3, padding: 1}\n  - relu\n  - maxpool: 2\n", with: ""),
            line: 6, keyPath: "input.columns", "2 columns given but input.shape 3 needs 3")
        assertModelError(base(replacing: "shape: [1, 8, 8]", with: "shape: [2]\n  columns: [a, a]")
            .replacingOccurrences(of: "  - conv2d: {filters: 4, kernel: 3, padding: 1}\n  - relu\n  - maxpool: 2\n", with: ""),
            line: 6, keyPath: "input.columns[1]", "column 'a' is listed twice")
    }
}
