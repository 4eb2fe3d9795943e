import Canopy
import Foundation
import XCTest
@testable import CanopyTrain

/// Every example's `report.html`, rendered by headless Chromium (Debian's `chromium`): the screenshot is not blank,
/// the rendered page holds a loss chart per task, and the browser logged no console message and ran into no script
/// error. Skips, saying so, when Chromium is not installed (Scripts/install-dependencies installs it).
final class ReportBrowserTests: ScratchTestCase {
    static let window = (width: 1400, height: 1200)

    func testEveryExamplesReportRendersInHeadlessChromium() throws {
        let chromium = try Self.chromium()
        let examples = try FileManager.default.contentsOfDirectory(atPath: TestModels.examples.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(examples.count, 10, "\(examples)")
        var pages: [(example: String, page: URL, tasks: [String])] = []
        let start = Date()
        for example in examples {
            let spec = try shortRun(of: example)
            defer { print("\(example): trained and reported after \(String(format: "%.1f", Date().timeIntervalSince(start))) s") }
            let folder = scratch.appendingPathComponent("runs/\(example)")
            let trainer = try Trainer(spec: spec, backend: CPUBackend())
            let output = try RunOutput(directory: folder, trainer: trainer)
            _ = try trainer.train(observer: output)
            try output.writeReport()
            pages.append((example, output.reportURL, spec.tasks.map(\.name)))
        }
        let renders = try render(pages.map(\.page), with: chromium)
        print("rendered \(pages.count) pages after \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        for ((example, _, tasks), render) in zip(pages, renders) {
            assertRendered(render, charts: tasks.map { RunReport.chartIdentifier(task: $0, key: "loss") }
                           + ["learning-rate", "epoch-seconds"],
                           example)
        }
    }

    /// The check itself fails on a page whose script throws, and on one that logs to the console.
    func testTheCheckCatchesAScriptErrorAndConsoleMessages() throws {
        let chromium = try Self.chromium()
        let history = try RunHistory(name: "r", jsonLines: Data("""
            {"epoch":1,"split":"train","task":"t","loss":1.0}
            {"epoch":2,"split":"train","task":"t","loss":0.5}

            """.utf8), file: "metrics.jsonl")
        let good = RunReport.html([history])
        let pages = [good, good.replacingOccurrences(of: "</body>", with: "<script>notAFunction();</script></body>"),
                     good.replacingOccurrences(of: "</body>", with: "<script>console.log('hello')</script></body>")]
        let urls = try pages.enumerated().map { i, text -> URL in
            let url = scratch.appendingPathComponent("page\(i).html")
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url
        }
        let renders = try render(urls, with: chromium)
        XCTAssertTrue(renders[0].problems.isEmpty, "\(renders[0].problems)")
        XCTAssertTrue(renders[1].problems.contains { $0.contains("report error: Uncaught ReferenceError") },
                      "\(renders[1].problems)")
        XCTAssertTrue(renders[1].problems.contains { $0.contains("CONSOLE") }, "\(renders[1].problems)")
        XCTAssertTrue(renders[2].problems.contains { $0.contains("hello") }, "\(renders[2].problems)")
    }

    // MARK: Helpers

    /// One page as Chromium rendered it.
    struct Render {
        var dom: String
        /// The share of the screenshot's pixels that are not the white background (0 when it is missing).
        var inked: Double
        /// Console lines and script errors.
        var problems: [String]
    }

    /// The example's model for a run of 2 epochs on few rows.
    private func shortRun(of example: String) throws -> ModelSpec {
        var spec = try ModelFile.load(contentsOf: TestModels.examples.appendingPathComponent(example))
        spec.train.epochs = 2
        spec.train.earlyStopping = nil
        if let rows = spec.data.options["rows"] { spec.data.options["rows"] = min(rows, 128) }
        if case let .images(labels, column) = spec.data.source {
            spec.data.source = .images(labels: try fewRows(labels, rows: 24), fileColumn: column)
            if case let .images(test, testColumn)? = spec.data.testSource {
                spec.data.testSource = .images(labels: try fewRows(test, rows: 8), fileColumn: testColumn)
            }
        }
        return spec
    }

    /// The first `rows` rows of an image labels CSV, beside links to its image folders (names are relative).
    private func fewRows(_ labels: URL, rows: Int) throws -> URL {
        let folder = scratch.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = labels.deletingLastPathComponent()
        for entry in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            var isDirectory: ObjCBool = false
            let link = folder.appendingPathComponent(entry)
            if FileManager.default.fileExists(atPath: source.appendingPathComponent(entry).path, isDirectory: &isDirectory),
               isDirectory.boolValue, !FileManager.default.fileExists(atPath: link.path) {
                try FileManager.default.createSymbolicLink(at: link, withDestinationURL: source.appendingPathComponent(entry))
            }
        }
        let lines = try String(contentsOf: labels, encoding: .utf8).split(separator: "\n")
        let url = folder.appendingPathComponent(labels.lastPathComponent)
        try (lines.prefix(rows + 1).joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Renders each page (as many browsers at a time as there are cores) into a screenshot and its DOM after
    /// scripts ran.
    private func render(_ pages: [URL], with chromium: String) throws -> [Render] {
        final class Results: @unchecked Sendable {
            // Unchecked: `renders` and `failure` are touched only under `lock`.
            let lock = NSLock()
            var renders: [Render?]
            var failure: Error?
            init(count: Int) { renders = Array(repeating: nil, count: count) }
        }
        let results = Results(count: pages.count)
        let scratch: URL = scratch
        DispatchQueue.concurrentPerform(iterations: pages.count) { i in
            do {
                let render = try Self.renderOne(pages[i], index: i, with: chromium, scratch: scratch)
                results.lock.withLock { results.renders[i] = render }
            } catch {
                results.lock.withLock { results.failure = error }
            }
        }
        if let failure = results.failure { throw failure }
        return results.renders.map { $0! }
    }

    private static func renderOne(_ page: URL, index: Int, with chromium: String, scratch: URL) throws -> Render {
        let shot = scratch.appendingPathComponent("shot\(index).png")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                             "--user-data-dir=\(scratch.appendingPathComponent("profile\(index)").path)",
                             "--window-size=\(window.width),\(window.height)", "--screenshot=\(shot.path)",
                             "--dump-dom", "--enable-logging=stderr", "--v=0", page.absoluteString]
        // Files, not pipes: a browser blocked on a full pipe would never exit.
        let domFile = scratch.appendingPathComponent("dom\(index).html"), logFile = scratch.appendingPathComponent("log\(index).txt")
        _ = FileManager.default.createFile(atPath: domFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let out = try FileHandle(forWritingTo: domFile), err = try FileHandle(forWritingTo: logFile)
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        let dom = (try? String(contentsOf: domFile, encoding: .utf8)) ?? ""
        let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        var problems = log.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        if let title = dom.range(of: "<title>report error:") {
            problems.append(String(dom[title.lowerBound...].prefix(200)))
        }
        return Render(dom: dom, inked: inkedShare(shot), problems: problems)
    }

    private func assertRendered(_ render: Render, charts: [String], _ example: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(render.problems.isEmpty, "\(example): \(render.problems)", file: file, line: line)
        XCTAssertGreaterThan(render.inked, 0.02, "\(example): the screenshot is blank or missing", file: file, line: line)
        XCTAssertTrue(render.dom.contains("<svg class=\"chart\""), "\(example): no chart in the rendered page",
                      file: file, line: line)
        for chart in charts {
            XCTAssertTrue(render.dom.contains("data-chart=\"\(chart)\""), "\(example): no chart \(chart)",
                          file: file, line: line)
        }
        XCTAssertTrue(render.dom.contains("<polyline"), "\(example): no line drawn", file: file, line: line)
    }

    /// The share of pixels that are not near-white in a screenshot of the window's size; 0 when unreadable.
    static func inkedShare(_ png: URL) -> Double {
        guard let bytes = FileManager.default.contents(atPath: png.path) else { return 0 }
        let (height, width) = (window.height, window.width)
        var pixels = [Float](repeating: 0, count: 3 * height * width)
        let failure = bytes.withUnsafeBytes { raw in
            pixels.withUnsafeMutableBufferPointer { ImageDecoding.decode(raw, channels: 3, height: height, width: width, into: $0) }
        }
        guard failure == nil else { return 0 }
        let plane = height * width
        let inked = (0..<plane).filter { p in pixels[p] < 0.9 || pixels[plane + p] < 0.9 || pixels[2 * plane + p] < 0.9 }
        return Double(inked.count) / Double(plane)
    }

    /// Chromium's path, or a skip.
    static func chromium() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/local/bin/chromium"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw XCTSkip("Chromium is not installed (Scripts/install-dependencies installs Debian's chromium); "
            + "report.html was not checked in a browser")
    }
}
