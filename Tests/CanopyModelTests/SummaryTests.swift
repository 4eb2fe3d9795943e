import XCTest
@testable import CanopyModel

/// Shape inference, parameter counts and names, shape errors, and the rendered table.
final class SummaryTests: XCTestCase {
    /// A flat-input model file with `shared` and `heads` spliced in.
    func model(input: String = "[1, 8, 8]", shared: String, tasks: String) -> String {
        """
        name: s
        data: {source: builtin:digits}
        input: {shape: \(input)}
        shared: \(shared)
        tasks:
        \(tasks)
        train: {optimizer: adam, batch_size: 4, epochs: 1}
        """
    }

    func testDigitsCNNShapesAndParameters() throws {
        let shared = "[{conv2d: {filters: 16, kernel: 3, padding: 1}}, relu, {maxpool: 2}, flatten, {dense: 64}, relu]"
        let tasks = """
              digit: {head: [{dense: 10}], loss: cross_entropy}
              parity: {head: [{dense: 2}], loss: cross_entropy}
              value: {head: [{dense: 1}], loss: mse}
            """
        let spec = try parseModel(model(shared: shared, tasks: tasks))
        let summary = try summarize(spec)
        XCTAssertEqual(summary.shared.map(\.outputShape), [[16, 8, 8], [16, 8, 8], [16, 4, 4], [256], [64], [64]])
        XCTAssertEqual(summary.shared.map(\.parameterCount), [160, 0, 0, 0, 16448, 0])
        XCTAssertEqual(summary.shared.map(\.description),
                       ["conv2d 16×3×3 s1 p1", "relu", "maxpool 2×2 s2", "flatten", "dense 64", "relu"])
        XCTAssertEqual(summary.shared[0].parameters, [.init(name: "shared.0.weight", count: 144),
                                                      .init(name: "shared.0.bias", count: 16)])
        XCTAssertEqual(summary.shared[4].parameterNames, ["shared.4.weight", "shared.4.bias"])
        XCTAssertEqual(summary.sharedOutputShape, [64])
        XCTAssertEqual(summary.sharedParameterCount, 16608)
        XCTAssertEqual(summary.tasks.map(\.name), ["digit", "parity", "value"])
        XCTAssertEqual(summary.tasks.map(\.outputShape), [[10], [2], [1]])
        XCTAssertEqual(summary.tasks.map(\.parameterCount), [650, 130, 65])
        XCTAssertEqual(summary.tasks[1].rows[0].parameterNames, ["tasks.parity.head.0.weight", "tasks.parity.head.0.bias"])
        XCTAssertEqual(summary.totalParameterCount, 17453)
        XCTAssertEqual(summary.parameters.count, 10)
        XCTAssertEqual(summary.parameters.map(\.count).reduce(0, +), 17453)
    }

    func testStridesPaddingPoolingAndFlatten() throws {
        let shared = """
            [{conv2d: {filters: 2, kernel: 3, stride: 2}}, {maxpool: {kernel: 3, stride: 1}},
             flatten, flatten, {dropout: 0.5}, gelu]
            """
        let tasks = """
              b: {head: [{dense: 1}, sigmoid], loss: binary_cross_entropy, metrics: [auc]}
              c: {head: [{dense: 2}, relu], loss: cross_entropy, metrics: [auc, accuracy]}
            """
        let spec = try parseModel(model(input: "[3, 9, 9]", shared: shared, tasks: tasks))
        let summary = try summarize(spec)
        XCTAssertEqual(summary.shared.map(\.outputShape), [[2, 4, 4], [2, 2, 2], [8], [8], [8], [8]])
        XCTAssertEqual(summary.shared[0].parameterCount, 2 * 3 * 9 + 2)
        XCTAssertEqual(summary.tasks.map(\.outputShape), [[1], [2]])
        XCTAssertEqual(summary.totalParameterCount, 56 + 9 + 18)
    }

    func testShapesThatDoNotFit() {
        let ce = "  d: {head: [{dense: 10}], loss: cross_entropy}"
        assertModelError(model(input: "[64]", shared: "[{conv2d: {filters: 2, kernel: 3}}]", tasks: ce), line: 4,
                         column: 10, keyPath: "shared[0]", "conv2d needs a [channels, height, width] input but gets 64")
        assertModelError(model(input: "[64]", shared: "[{maxpool: 2}]", tasks: ce), line: 4, keyPath: "shared[0]",
                         "maxpool needs a [channels, height, width] input")
        assertModelError(model(input: "[1, 2, 2]", shared: "[{conv2d: {filters: 2, kernel: 5, padding: 1}}]", tasks: ce),
                         line: 4, keyPath: "shared[0].conv2d.kernel", "kernel 5 is larger than its padded input 4×4")
        assertModelError(model(input: "[1, 3, 8]", shared: "[{maxpool: 4}]", tasks: ce), line: 4,
                         keyPath: "shared[0].maxpool.kernel", "kernel 4 is larger than its input 3×8")
        assertModelError(model(shared: "[relu, {dense: 8}]", tasks: ce), line: 4, column: 16, keyPath: "shared[1]",
                         "dense needs a flat input but gets 1×8×8; add 'flatten' before it")
        assertModelError(model(shared: "[relu]", tasks: ce), line: 6, keyPath: "tasks.d.head[0]",
                         "add 'flatten' before it")
        assertModelError(model(shared: "[{conv2d: {filters: 2, kernel: 3}}]", tasks: "  d: {head: [relu], loss: mse}"),
                         line: 6, keyPath: "tasks.d.head[0]", "a head must end with a flat output", "2×6×6")
        assertModelError(model(input: "[4]", shared: "[]", tasks: "  d: {head: [{dense: 10}, flatten], loss: cross_entropy}"),
                         line: 6, keyPath: "tasks.d.head[1]", "a cross_entropy head must end with a dense layer")
        assertModelError(model(input: "[4]", shared: "[]", tasks: "  d: {head: [{dense: 1}], loss: cross_entropy}"),
                         line: 6, keyPath: "tasks.d.head[0]", "cross_entropy needs at least 2 classes but the head gives 1")
        assertModelError(model(input: "[4]", shared: "[]", tasks: "  d: {head: [{dense: 2}], loss: mse}"),
                         line: 6, keyPath: "tasks.d.head[0]", "output width must be 1, got 2")
        assertModelError(model(input: "[4]", shared: "[]", tasks: "  d: {head: [{dense: 10}], loss: cross_entropy, metrics: [accuracy, auc]}"),
                         line: 6, keyPath: "tasks.d.metrics[1]", "auc needs a binary task", "gives 10 outputs")
        assertModelError(model(input: "[4]", shared: "[]", tasks: "  d: {head: [{dense: 3}], loss: binary_cross_entropy, metrics: [auc]}"),
                         line: 6, keyPath: "tasks.d.head[0]", "a binary_cross_entropy head predicts one label column",
                         "width must be 1, got 3")
    }

    func testAbsurdSizes() {
        let mse = "  d: {head: [{dense: 1}], loss: mse}"
        assertModelError(model(input: "[1048576]", shared: "[{dense: 1048576}]", tasks: mse), line: 4,
                         keyPath: "shared[0]", "more than 2147483648 parameters")
        assertModelError(model(input: "[1, 64, 64]", shared: "[{conv2d: {filters: 1048576, kernel: 1}}]", tasks: mse),
                         line: 4, keyPath: "shared[0]", "output shape 1048576×64×64 is absurdly large")
        assertModelError(model(input: "[1024, 1024, 1024]", shared: "[flatten]", tasks: mse), line: 3,
                         keyPath: "input.shape", "is absurdly large")
        assertModelError(model(input: "[1, 2, 3, 4]", shared: "[]", tasks: mse), line: 3, keyPath: "input.shape",
                         "got 4 dimensions")
    }

    func testRender() throws {
        let spec = try parseModel(model(input: "[1, 4, 4]", shared: "[{conv2d: {filters: 8, kernel: 3, padding: 1}}, flatten, {dense: 1000}]",
                                        tasks: "  digit: {head: [{dense: 10}], loss: cross_entropy}"))
        let table = try summarize(spec).render()
        print(table)
        XCTAssertEqual(table, """
            model s
            layer                op                  output   params
            input                                    1×4×4
            shared[0]            conv2d 8×3×3 s1 p1  8×4×4        80
            shared[1]            flatten             128
            shared[2]            dense 1000          1000    129,000
            shared total                                     129,080
            tasks.digit.head[0]  dense 10            10       10,010
            tasks.digit total                                 10,010
            total                                            139,090

            """)
    }
}
