import CanopyTestSupport
import XCTest

/// The default build (no MPI trait) links no MPI: single-machine users need no Open MPI.
final class DefaultBuildTests: XCTestCase {
    func testDefaultCanopyLinksNoMPI() throws {
        // The test bundle sits in the default build's bin directory, next to `canopy`.
        let canopy = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("canopy").path
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: canopy), "no default build's canopy at \(canopy)")
        let finished = try runWithTimeout("/usr/bin/ldd", [canopy], timeout: 60)
        XCTAssertEqual(finished.status, 0, finished.output)
        XCTAssertTrue(finished.output.contains("libc.so"), "ldd listed nothing:\n\(finished.output)")
        for library in ["libmpi", "openmpi", "libopen-pal", "libopen-rte"] {
            XCTAssertFalse(finished.output.contains(library), "the default canopy links \(library):\n\(finished.output)")
        }
    }
}
