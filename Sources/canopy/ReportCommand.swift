import ArgumentParser
import Canopy
import Foundation

/// `canopy report RUN_DIR [RUN_DIR ...] [--out FILE]`: rebuilds a run's `report.html` from its `metrics.jsonl`,
/// or compares several runs on one page.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write report.html (loss, metric, weight and gradient-cosine curves) from runs' metrics.jsonl.",
        discussion: """
            With one run folder the page goes to RUN_DIR/report.html; with several, the runs are compared on one \
            page (one colour per run), written to --out (default: report.html in the current folder).
            """)

    @Argument(help: "Run folders (each holding metrics.jsonl).")
    var runs: [String]

    @Option(parsing: .unconditional, help: "The page to write (default: RUN_DIR/report.html, or ./report.html for several runs).")
    var out: String?

    func validate() throws {
        if runs.isEmpty { throw ValidationError("give at least one run folder") }
    }

    func run() throws {
        try reportingErrors {
            let folders = runs.map { URL(fileURLWithPath: $0) }
            let output = URL(fileURLWithPath: out ?? (runs.count == 1
                ? folders[0].appendingPathComponent(RunReport.fileName).path : RunReport.fileName))
            let notes = try RunReport.write(runs: folders, to: output)
            for note in notes { print("note: \(note)") }
            print("wrote \(output.relativePath)")
        }
    }
}
