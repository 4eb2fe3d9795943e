import XCTest
@testable import CanopyModel

/// Bad data options, class weights and training options: each error names the file, line and key path.
/// (Line numbers refer to `baseYAML`: data.source on 3, tasks digit and value on 13 and 14, epochs on 18.)
final class OptionErrorTests: XCTestCase {
    /// `baseYAML` with `lines` added to the `train:` section (starting on line 19).
    func train(_ lines: String) -> String { base(replacing: "  epochs: 2", with: "  epochs: 2\n\(lines)") }

    /// `baseYAML` reading `source` with `lines` added to `data:` (starting on line 4).
    func data(_ source: String, _ lines: String) -> String {
        base(replacing: "  source: builtin:digits", with: "  source: \(source)\n\(lines)")
    }

    func testDataOptions() {
        assertModelError(data("builtin:digits", "  options: {rows: 5}"), line: 4, column: 13, keyPath: "data.options.rows",
                         "builtin:digits takes no options")
        assertModelError(data("builtin:multidigits", "  options: {rowz: 10}"), line: 4, keyPath: "data.options.rowz",
                         "unknown option 'rowz' for builtin:multidigits", "did you mean 'rows'?")
        assertModelError(data("builtin:multidigits", "  options: {seed: 1, colour: 2}"), line: 4,
                         keyPath: "data.options.colour", "(expected one of: rows, seed)")
        assertModelError(data("builtin:multidigits", "  options: {rows: 0}"), line: 4, keyPath: "data.options.rows",
                         "must be in 1...200000, got 0")
        assertModelError(data("builtin:multidigits", "  options: {rows: 10.5}"), line: 4,
                         keyPath: "data.options.rows", "must be a whole number, got 10.5")
        assertModelError(data("builtin:synthetic-mmoe", "  options: {correlation: 2}"), line: 4,
                         keyPath: "data.options.correlation", "correlation", "must be in -1...1, got 2")
        assertModelError(data("builtin:synthetic-mmoe", "  options:\n    features: 64\n    noise: -0.5"), line: 6,
                         column: 5, keyPath: "data.options.noise", "noise (the variance of the label noise) must be in 0...1000000, got -0.5")
        assertModelError(data("builtin:synthetic-mmoe", "  options: {features: 1}"), line: 4,
                         keyPath: "data.options.features", "must be in 2...10000")
        assertModelError(data("builtin:synthetic-mmoe", "  options: {rows: 1, rows: 2}"), line: 4,
                         keyPath: "data.options.rows", "duplicate key 'rows'")
        assertModelError(data("data/x.csv", "  options: {rows: 5}"), line: 4, keyPath: "data.options.rows",
                         "built-in data sets only")
        assertModelError(data("builtin:digits", "  options: [1]"), line: 4, keyPath: "data.options", "expected a mapping from option name")
        assertModelError(data("builtin:multidigits", "  options: {rows: many}"), line: 4,
                         keyPath: "data.options.rows", "expected a number, found 'many'")
        assertModelError(data("builtin:digits", "  missing: {na: 1}"), line: 4, keyPath: "data.missing", "expected a list of cell texts")
        assertModelError(data("builtin:digits", "  missing: [[1]]"), line: 4, keyPath: "data.missing[0]", "expected a cell text")
        assertModelError(base(replacing: "builtin:digits", with: "builtin:multidigit"), line: 3,
                         keyPath: "data.source", "did you mean 'multidigits'?")
    }

    func testClassWeights() {
        assertModelError(base(replacing: "loss: cross_entropy}", with: "loss: cross_entropy, class_weights: [1, 2]}"),
                         line: 13, keyPath: "tasks.digit.class_weights",
                         "2 class weights given but the head has 10 classes")
        assertModelError(base(replacing: "loss: mse}", with: "loss: mse, class_weights: balanced}"), line: 14,
                         column: 57, keyPath: "tasks.value.class_weights", "cross_entropy tasks only", "loss is mse")
        assertModelError(base(replacing: "loss: cross_entropy}", with: "loss: cross_entropy, class_weights: balance}"),
                         line: 13, keyPath: "tasks.digit.class_weights", "did you mean 'balanced'?")
        let ten = (0..<10).map { $0 == 3 ? "-1" : "1" }.joined(separator: ", ")
        assertModelError(base(replacing: "loss: cross_entropy}", with: "loss: cross_entropy, class_weights: [\(ten)]}"),
                         line: 13, keyPath: "tasks.digit.class_weights[3]", "finite number ≥ 0, got -1.0")
        let zeros = Array(repeating: "0", count: 10).joined(separator: ", ")
        assertModelError(base(replacing: "loss: cross_entropy}", with: "loss: cross_entropy, class_weights: [\(zeros)]}"),
                         line: 13, keyPath: "tasks.digit.class_weights", "at least one class weight must be positive")
        assertModelError(base(replacing: "loss: cross_entropy}", with: "loss: cross_entropy, class_weights: {a: 1}}"),
                         line: 13, keyPath: "tasks.digit.class_weights", "expected 'balanced' or a list of weights")
    }

    func testWeighting() {
        assertModelError(train("  weighting: pcgard"), line: 19, column: 14, keyPath: "train.weighting",
                         "unknown task weighting 'pcgard'", "did you mean 'pcgrad'?")
        assertModelError(train("  weighting: {gradnorm: {alpha: -1}}"), line: 19,
                         keyPath: "train.weighting.gradnorm.alpha", "alpha must be a finite number > 0, got -1.0")
        assertModelError(train("  weighting: {gradnorm: {beta: 1}}"), line: 19,
                         keyPath: "train.weighting.gradnorm.beta", "unknown key 'beta'", "expected one of: alpha, lr")
        assertModelError(train("  weighting: {dwa: {temperature: 0}}"), line: 19,
                         keyPath: "train.weighting.dwa.temperature", "temperature must be a finite number > 0")
        assertModelError(train("  weighting: {pcgrad: {x: 1}}"), line: 19, keyPath: "train.weighting.pcgrad",
                         "'pcgrad' takes no settings")
        assertModelError(train("  weighting: {pcgrad: , mgda: }"), line: 19, keyPath: "train.weighting",
                         "name exactly one task weighting", "found 2 keys")
        assertModelError(train("  weighting: [pcgrad]"), line: 19, keyPath: "train.weighting",
                         "expected a word (fixed, uncertainty, pcgrad, mgda, gradnorm, dwa) or a mapping")
    }

    func testScheduleWarmupAndClipping() {
        assertModelError(train("  schedule: cosin"), line: 19, keyPath: "train.schedule",
                         "unknown schedule 'cosin'", "did you mean 'cosine'?")
        assertModelError(train("  schedule: step"), line: 19, keyPath: "train.schedule.step",
                         "a step schedule needs its settings", "{step: {every_epochs: 10, gamma: 0.5}}")
        assertModelError(train("  schedule: {step: {every_epochs: 0, gamma: 0.5}}"), line: 19,
                         keyPath: "train.schedule.step.every_epochs", "every_epochs must be in 1...")
        assertModelError(train("  schedule: {step: {every_epochs: 2}}"), line: 19,
                         keyPath: "train.schedule.step.gamma", "missing required key 'gamma'")
        assertModelError(train("  schedule: {cosine: {min_lr: 0.5}}"), line: 19,
                         keyPath: "train.schedule.cosine.min_lr", "must not exceed the optimizer's lr (0.01)")
        assertModelError(train("  schedule: {constant: {x: 1}}"), line: 19, keyPath: "train.schedule.constant",
                         "'constant' takes no settings")
        assertModelError(train("  warmup_epochs: 2"), line: 19, column: 18, keyPath: "train.warmup_epochs",
                         "less than epochs (2), got 2")
        assertModelError(train("  warmup_epochs: -1"), line: 19, keyPath: "train.warmup_epochs", "≥ 0")
        assertModelError(train("  clip_norm: 0"), line: 19, keyPath: "train.clip_norm",
                         "clip_norm must be a finite number > 0, got 0.0")
    }

    func testEarlyStopping() {
        assertModelError(train("  early_stopping: {monitor: digit.acuracy, patience: 3}"), line: 19, column: 29,
                         keyPath: "train.early_stopping.monitor", "task 'digit' does not report 'acuracy'",
                         "did you mean 'accuracy'?", "digit.loss, digit.accuracy")
        assertModelError(train("  early_stopping: {monitor: digt.accuracy, patience: 3}"), line: 19,
                         keyPath: "train.early_stopping.monitor", "the task 'digt', which does not exist",
                         "did you mean 'digit'?")
        assertModelError(train("  early_stopping: {monitor: value.accuracy, patience: 3}"), line: 19,
                         keyPath: "train.early_stopping.monitor", "can be monitored by value.loss, value.mse")
        assertModelError(train("  early_stopping: {monitor: accuracy, patience: 3}"), line: 19,
                         keyPath: "train.early_stopping.monitor", "monitor must be 'loss' or '<task>.<metric>'")
        assertModelError(train("  early_stopping: {monitor: loss, patience: 0}"), line: 19,
                         keyPath: "train.early_stopping.patience", "patience must be in 1...")
        assertModelError(train("  early_stopping: {monitor: loss}"), line: 19,
                         keyPath: "train.early_stopping.patience", "missing required key 'patience'")
        assertModelError(train("  early_stopping: {monitor: loss, patient: 2}"), line: 19,
                         keyPath: "train.early_stopping.patient", "did you mean 'patience'?")
    }
}
