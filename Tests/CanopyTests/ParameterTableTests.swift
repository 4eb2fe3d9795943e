import Canopy
import Foundation
import XCTest

/// `canopy check --parameters`: every parameter's name, shape, count and role, in creation order, as `init_from`,
/// `freeze` and checkpoints name them.
final class ParameterTableTests: ScratchTestCase {
    private func batchNormModel(freezing: String = "") -> String {
        Self.smallModel().replacingOccurrences(of: "shared: [{dense: 16}, relu]", with: "shared: [{dense: 16}, batchnorm, relu]")
            + freezing
    }

    func testRowsFollowTheGraphWithShapesCountsAndRoles() throws {
        let spec = try ModelFile.parse(batchNormModel(freezing: "\nfreeze: [shared]\n"), fileName: "m.yaml",
                                       baseDirectory: nil)
        let plan = try RunPlan(spec, device: nil)
        let table = ParameterTable(plan)
        let graph = plan.model.graph
        XCTAssertEqual(table.rows.map(\.name), graph.parameters.compactMap { graph.name(of: $0) })
        let byName = Dictionary(uniqueKeysWithValues: table.rows.map { ($0.name, $0) })
        XCTAssertEqual(byName["shared.0.weight"]?.shape, [16, 64])
        XCTAssertEqual(byName["shared.0.weight"]?.count, 1024)
        XCTAssertEqual(byName["shared.0.weight"]?.role, .frozen)
        XCTAssertEqual(byName["tasks.digit.head.0.weight"]?.shape, [10, 16])
        XCTAssertEqual(byName["tasks.digit.head.0.weight"]?.role, .trained)
        let state = table.rows.filter { $0.role == .state }
        XCTAssertEqual(state.count, 2, "batch norm's running mean and variance: \(table.rows.map(\.name))")
        XCTAssertTrue(state.allSatisfy { $0.shape == [16] })
        // 1,024 + 16 (dense), 4 × 16 (batch norm: weight, bias, running mean and variance), 170 + 17 (heads);
        // freeze: [shared] leaves the heads' 187 trained.
        XCTAssertEqual(table.lines.first, "parameters: 10, 1,291 values, 187 trained")
        let weightLine = try XCTUnwrap(table.lines.first { $0.contains("shared.0.weight") })
        XCTAssertTrue(weightLine.contains("[16, 64]") && weightLine.contains("1,024") && weightLine.hasSuffix("frozen"), weightLine)
    }

    func testCheckPrintsTheTableWhenAsked() throws {
        let model = try write(batchNormModel())
        let plain = try canopy("check", model)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertFalse(plain.stdout.contains("parameters: "))
        let listed = try canopy("check", model, "--parameters")
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertTrue(listed.stdout.contains("parameters: 10, 1,291 values, 1,259 trained"), listed.stdout)
        for name in ["shared.0.weight", "shared.0.bias", "tasks.value.head.0.bias"] {
            XCTAssertTrue(listed.stdout.contains("  \(name)  "), "\(name) in:\n\(listed.stdout)")
        }
        XCTAssertEqual(listed.stdout.components(separatedBy: "  state").count - 1, 2, listed.stdout)
    }
}
