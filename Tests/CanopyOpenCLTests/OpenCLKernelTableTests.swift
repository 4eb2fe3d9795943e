import CanopyCore
@testable import CanopyOpenCL
import Foundation
import XCTest

/// The kernel table generated from `Kernels/*.cl`: it covers every kernel, a program whose kernels differ from it
/// is refused at load, and a launch whose arguments differ from a signature is refused before anything is set.
final class OpenCLKernelTableTests: XCTestCase {
    /// The repository's `Kernels/` directory.
    private let kernelsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Kernels")
    private var directories: [URL] = []

    override func tearDown() {
        for url in directories { try? FileManager.default.removeItem(at: url) }
        directories = []
    }

    /// A copy of `Kernels/` with `file` edited by `edit`.
    private func editedKernels(_ file: String, _ edit: (String) -> String) throws -> URL {
        let url = try OpenCLTesting.temporaryDirectory("edited-kernels")
        directories.append(url)
        for name in try FileManager.default.contentsOfDirectory(atPath: kernelsDirectory.path) where name.hasSuffix(".cl") {
            let text = try String(contentsOf: kernelsDirectory.appendingPathComponent(name), encoding: .utf8)
            try (name == file ? edit(text) : text).write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return url
    }

    private func backend(kernels: URL) throws -> OpenCLBackend {
        try OpenCLTesting.skipWithoutDevice {
            try OpenCLBackend(device: .environment, options: OpenCLBackendOptions(kernelDirectory: kernels, cacheDirectory: nil))
        }
    }

    private func assertLoadFails(_ backend: OpenCLBackend, _ kernel: Kernel, mentioning texts: [String],
                                 line: UInt = #line) {
        XCTAssertThrowsError(try backend.execute(kernel), line: line) { error in
            print("refused at load: \(error)")
            guard case let BackendError.deviceFailure(_, message)? = error as? BackendError else {
                return XCTFail("expected deviceFailure, got \(error)", line: line)
            }
            for text in texts { XCTAssertTrue(message.contains(text), "'\(message)' does not mention '\(text)'", line: line) }
        }
    }

    /// No device needed: every file of Kernels/ that declares a kernel is a table file, and every kernel named
    /// literally in a signature is in the table (macro-generated ones are checked against the compiler below).
    func testTableNamesEveryKernelFileAndLiteralKernel() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: kernelsDirectory.path).filter { $0.hasSuffix(".cl") }
        let pattern = try NSRegularExpression(pattern: #"__kernel\s+void\s+(canopy_\w+)\s*\("#)
        var literal: [String: Set<String>] = [:]
        for name in names {
            let text = try String(contentsOf: kernelsDirectory.appendingPathComponent(name), encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                literal[name, default: []].insert(String(text[Range(match.range(at: 1), in: text)!]))
            }
            if text.contains("__kernel") {
                XCTAssertNotNil(CLKernelFile(rawValue: name), "\(name) declares kernels but is not in the table")
            }
        }
        XCTAssertEqual(Set(CLKernelFile.allCases.map(\.rawValue)), Set(names).subtracting(["common.cl"]))
        for (file, kernels) in literal {
            let table = Set(CLKernels.all.filter { $0.file.rawValue == file }.map(\.name))
            XCTAssertTrue(kernels.isSubset(of: table), "\(file): \(kernels.subtracting(table).sorted()) missing from the table")
        }
        XCTAssertEqual(Set(CLKernels.all.map(\.name)).count, CLKernels.all.count, "kernel names must be unique")
        // Macro-generated kernels: canopy_##NAME expanded per function.
        for function in UnaryFunction.allCases {
            XCTAssertEqual(CLKernels.unary(function).name, "canopy_\(function.rawValue)")
            XCTAssertEqual(CLKernels.unaryBackward(function).parameters.map(\.name), ["x", "y", "dy", "dx", "count"])
        }
        XCTAssertEqual(CLKernels.matmulTn.parameters.count, 18)
    }

    /// The compiler's own list of each program's kernels (`CL_PROGRAM_KERNEL_NAMES`) equals the table's, and each
    /// loaded without a count mismatch (the check at load ran for every kernel).
    func testTableCoversEveryCompiledKernel() throws {
        let backend = try OpenCLTesting.backend()
        for file in CLKernelFile.allCases {
            let compiled = try backend.programs.kernelNames(in: file, options: backend.tunables.options(for: file))
            let table = CLKernels.all.filter { $0.file == file }.map(\.name)
            XCTAssertEqual(Set(compiled), Set(table), "\(file.rawValue): compiled kernels vs table")
        }
    }

    /// A kernel file from `CANOPY_KERNEL_DIR` whose kernel takes another argument than the table is refused when its
    /// program loads, naming the kernel and both counts, even if the kernel launched is another one of the file.
    func testProgramWithDifferentArgumentCountIsRefusedAtLoad() throws {
        let original = "__kernel void canopy_scale(__global const float* x, __global float* y, const float alpha, const int count)"
        let edited = try editedKernels("elementwise.cl") { text in
            XCTAssertTrue(text.contains(original), "elementwise.cl no longer declares canopy_scale as this test expects")
            return text.replacingOccurrences(of: original, with: original.dropLast() + ", const int unused)")
        }
        let backend = try backend(kernels: edited)
        let y = try backend.makeBuffer(count: 4)
        assertLoadFails(backend, .fill(y: y, value: 1, count: 4),
                        mentioning: ["canopy_scale", "elementwise.cl", "takes 5 arguments", "declares 4"])
    }

    /// A kernel the table does not know is refused at load too.
    func testProgramWithUnknownKernelIsRefusedAtLoad() throws {
        let edited = try editedKernels("pool.cl") { $0 + "\n__kernel void canopy_pool_extra(__global float* y) { y[0] = 0.0f; }\n" }
        let backend = try backend(kernels: edited)
        let pool = PoolGeometry(batch: 1, channels: 1, inHeight: 2, inWidth: 2, kernel: 2, stride: 2)
        let kernel = Kernel.maxPool(input: try backend.makeBuffer(count: 4), output: try backend.makeBuffer(count: 1),
                                    indices: try backend.makeBuffer(count: 1), geometry: pool)
        assertLoadFails(backend, kernel, mentioning: ["canopy_pool_extra", "pool.cl", "not in the kernel table"])
        // The unedited files still load and run.
        let y = try backend.makeBuffer(count: 3)
        try backend.execute(.fill(y: y, value: 2, count: 3))
        XCTAssertEqual(try backend.download(y), [2, 2, 2])
    }

    /// A launch whose arguments differ from the signature in number or kind throws before setting any of them.
    func testLaunchChecksArgumentsAgainstTheSignature() throws {
        let backend = try OpenCLTesting.backend()
        let y = try XCTUnwrap(try backend.makeBuffer(count: 4) as? CLBuffer)
        let before = backend.launchCount
        XCTAssertThrowsError(try backend.launch(CLKernels.fill, [.buffer(y), .int(4)], global: [4], local: [4])) { error in
            print("short launch: \(error)")
            XCTAssertTrue("\(error)".contains("2 arguments, but its signature declares 3: canopy_fill(y, value, count)"))
        }
        XCTAssertThrowsError(try backend.launch(CLKernels.fill, [.buffer(y), .int(1), .int(4)], global: [4], local: [4])) {
            XCTAssertTrue("\($0)".contains("argument 1 (value) is an int, the signature declares float"), "\($0)")
        }
        XCTAssertEqual(backend.launchCount, before)
        try backend.launch(CLKernels.fill, [.buffer(y), .float(1.5), .int(4)], global: [4], local: [4])
        XCTAssertEqual(try backend.download(y), [1.5, 1.5, 1.5, 1.5])
    }
}
