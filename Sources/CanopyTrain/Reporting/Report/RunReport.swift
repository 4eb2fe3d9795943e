import Foundation

/// `report.html`: a self-contained page (inline CSS and SVG; no network, fonts or external scripts) of one run's
/// curves, or of several runs compared on one page.
///
/// Sections: per task, its loss and each metric over epochs (training solid, validation dashed); task weights;
/// the gradient cosine of each pair of tasks over epochs and, per run, the last epoch's matrix as a heat map;
/// learning rate; epoch time; and Δm against the single-task baselines when the run has `baselines.json`.
/// With one run, lines are coloured by task (or by split); with several, by run, and the legend names the run.
/// Every chart is an `<svg class="chart" data-chart="…">`. The page has one inline script, which only writes an
/// error's message into the title (`report error: …`) so that a headless-browser check sees it.
public enum RunReport {
    /// The file name in a run folder.
    public static let fileName = "report.html"

    /// Line colours, in order (one per run when comparing, else per task).
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                          "#7f7f7f", "#bcbd22"]

    /// Reads each folder's `metrics.jsonl` (and `baselines.json`) and writes the page to `output` atomically.
    ///
    /// - Returns: the notes on skipped lines (also shown on the page).
    /// - Throws: ``ReportError`` when a folder has no readable log; a ``CheckpointError`` when the page cannot be
    ///   written.
    @discardableResult
    public static func write(runs directories: [URL], to output: URL) throws -> [String] {
        let histories = try directories.map { try RunHistory(directory: $0) }
        try writeAtomically(Array(html(histories).utf8), to: output)
        return histories.flatMap(\.notes)
    }

    /// The page for `runs` (at least one).
    public static func html(_ runs: [RunHistory]) -> String {
        let compare = runs.count > 1
        let tasks = runs.reduce(into: [String]()) { all, run in all += run.tasks.filter { !all.contains($0) } }
        let title = compare ? "Canopy runs: " + runs.map(\.name).joined(separator: ", ") : "Canopy run: \(runs[0].name)"
        var body = "<h1>\(CanopyTrain.html(title))</h1>"
        body += "<p class=\"meta\">" + runs.enumerated().map { r, run in
            let swatch = compare ? "<span class=\"swatch\" style=\"background:\(palette[r % palette.count])\"></span>" : ""
            return swatch + "<b>\(CanopyTrain.html(run.name))</b>: \(run.lastEpoch) epoch\(run.lastEpoch == 1 ? "" : "s"), "
                + "tasks \(CanopyTrain.html(run.tasks.joined(separator: ", ")))"
        }.joined(separator: "<br>") + "</p>"
        let notes = runs.flatMap(\.notes)
        if !notes.isEmpty {
            body += "<div class=\"notes\"><b>Skipped lines</b><ul>"
                + notes.prefix(20).map { "<li>\(CanopyTrain.html($0))</li>" }.joined()
                + (notes.count > 20 ? "<li>… and \(notes.count - 20) more</li>" : "") + "</ul></div>"
        }
        for task in tasks {
            var charts = [taskChart(runs, task: task, key: "loss", title: "\(task): loss", compare: compare)]
            let metrics = runs.reduce(into: [String]()) { all, run in
                all += (run.metricNames[task] ?? []).filter { !all.contains($0) }
            }
            charts += metrics.map { taskChart(runs, task: task, key: $0, title: "\(task): \($0)", compare: compare) }
            body += section("Task \(task)", charts.map(\.svg))
        }
        var overview: [SVGLineChart] = []
        let weights = seriesByName(tasks, of: runs, compare: compare) { run, task in
            run.series(task: task, split: "train", key: "weight")
        }
        if !weights.isEmpty { overview.append(SVGLineChart(title: "task weights", identifier: "weights", series: weights)) }
        let pairs = runs.reduce(into: [String]()) { all, run in all += run.pairNames.filter { !all.contains($0) } }
        if !pairs.isEmpty {
            let series = seriesByName(pairs, of: runs, compare: compare) { run, pair in run.cosines(pair: pair) }
            overview.append(SVGLineChart(title: "gradient cosine between tasks", identifier: "gradient-cosine",
                                         series: series, fixedRange: -1...1))
        }
        for (key, title) in [("learning_rate", "learning rate"), ("epoch_seconds", "epoch time (s)")] {
            let series = runs.enumerated().map { r, run in
                SVGLineChart.Series(name: run.name, colour: palette[r % palette.count], points: run.runSeries(key))
            }.filter { !$0.points.isEmpty }
            if !series.isEmpty {
                overview.append(SVGLineChart(title: title, identifier: key.replacingOccurrences(of: "_", with: "-"),
                                             series: series))
            }
        }
        var heatMaps: [String] = []
        for run in runs where !run.pairs.isEmpty {
            let last = run.pairs.map(\.epoch).max()!
            let map = SVGHeatMap(title: "gradient cosine, epoch \(last)" + (compare ? " (\(run.name))" : ""),
                                 identifier: "cosine-matrix", tasks: run.tasks,
                                 pairs: run.pairs.filter { $0.epoch == last }.map { ($0.first, $0.second, $0.cosine) })
            heatMaps.append(map.svg)
        }
        body += section("Training", overview.map(\.svg) + heatMaps)
        body += baselinesSection(runs)
        return page(title: title, body: body)
    }

    /// One line per name (a task's weight, a pair's cosine) and run, leaving out those without points: coloured
    /// by name for one run; by run when comparing, every other name dashed.
    private static func seriesByName(_ names: [String], of runs: [RunHistory], compare: Bool,
                                     points: (RunHistory, String) -> [(epoch: Int, value: Double)])
        -> [SVGLineChart.Series] {
        names.enumerated().flatMap { n, name in
            runs.enumerated().map { r, run in
                SVGLineChart.Series(name: compare ? "\(run.name) \(name)" : name,
                                    colour: palette[(compare ? r : n) % palette.count], dashed: compare && n % 2 == 1,
                                    points: points(run, name))
            }
        }.filter { !$0.points.isEmpty }
    }

    /// A task's key over epochs: train and validation (and test, a single point) of each run.
    private static func taskChart(_ runs: [RunHistory], task: String, key: String, title: String,
                                  compare: Bool) -> SVGLineChart {
        var series: [SVGLineChart.Series] = []
        for (r, run) in runs.enumerated() {
            for (s, split) in ["train", "validation", "test"].enumerated() {
                let points = run.series(task: task, split: split, key: key)
                guard !points.isEmpty else { continue }
                let colour = compare ? palette[r % palette.count] : palette[s % palette.count]
                series.append(SVGLineChart.Series(name: compare ? "\(run.name) \(split)" : split, colour: colour,
                                                  dashed: split != "train", points: points))
            }
        }
        return SVGLineChart(title: title, identifier: chartIdentifier(task: task, key: key), series: series)
    }

    /// The `data-chart` attribute of a task's chart of `key` (`loss` or a metric): `<task>-<key>` with every
    /// character but letters and digits replaced by `-` (`digit-macro-f1`).
    public static func chartIdentifier(task: String, key: String) -> String {
        (task + "-" + key).map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
    }

    /// Δm and each metric against its single-task baseline, for the runs that have `baselines.json`.
    private static func baselinesSection(_ runs: [RunHistory]) -> String {
        var tables = ""
        for run in runs where run.deltaM != nil || !run.baselines.isEmpty {
            let delta = run.deltaM.map { String(format: "%+.2f%%", $0) } ?? "not computed"
            tables += "<p><b>\(CanopyTrain.html(run.name))</b>: Δm = \(delta) (mean relative improvement over the "
                + "single-task baselines)</p><table data-table=\"baselines\"><tr><th>task</th><th>metric</th><th>multi-task</th><th>single-task</th></tr>"
            for row in run.baselines {
                tables += "<tr><td>\(CanopyTrain.html(row.task))</td><td>\(CanopyTrain.html(row.metric))</td>"
                    + "<td>\(String(format: "%.4f", row.multiTask))</td>"
                    + "<td>\(row.singleTask.map { String(format: "%.4f", $0) } ?? "failed")</td></tr>"
            }
            tables += "</table>"
        }
        return tables.isEmpty ? "" : "<section><h2>Against single-task baselines</h2>\(tables)</section>"
    }

    private static func section(_ heading: String, _ items: [String]) -> String {
        items.isEmpty ? "" : "<section><h2>\(CanopyTrain.html(heading))</h2><div class=\"grid\">"
            + items.joined() + "</div></section>"
    }

    private static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(CanopyTrain.html(title))</title>
        <script>window.addEventListener("error", function (e) { document.title = "report error: " + e.message; });</script>
        <style>
        body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 20px; color: #222; background: #fff; }
        h1 { font-size: 20px; margin: 0 0 6px; } h2 { font-size: 16px; margin: 18px 0 6px; }
        .meta { color: #555; } .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 5px; }
        .grid { display: flex; flex-wrap: wrap; gap: 10px; }
        svg.chart { background: #fafafa; border: 1px solid #e3e3e3; }
        svg .title { font-size: 13px; font-weight: 600; fill: #222; } svg .tick, svg .legend, svg .axis { font-size: 11px; fill: #444; }
        svg .cell { font-size: 11px; fill: #111; } svg .grid { stroke: #e6e6e6; } svg .frame { fill: none; stroke: #bbb; }
        svg .line { fill: none; stroke-width: 1.8; }
        .notes { background: #fff6e0; border: 1px solid #f0d9a0; padding: 6px 10px; }
        table { border-collapse: collapse; margin: 6px 0 12px; }
        td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } td:first-child, td:nth-child(2), th:first-child, th:nth-child(2) { text-align: left; }
        </style></head>
        <body>
        \(body)
        <p class="meta">Written by canopy from metrics.jsonl; rebuild with <code>canopy report RUN_DIR</code>.</p>
        </body></html>

        """
    }
}
