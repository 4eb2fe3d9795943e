import Foundation

/// The gradient-cosine matrix of one epoch as an inline SVG heat map: one cell per pair of tasks, red for −1
/// (conflicting gradients), white for 0, blue for +1, with the value written in the cell; the diagonal is 1.
public struct SVGHeatMap {
    /// The title above the matrix.
    public var title: String
    /// The `data-chart` attribute.
    public var identifier: String
    /// Row and column names.
    public var tasks: [String]
    /// The cosine of each pair (in either order); a missing pair shows as an empty cell.
    public var cosines: [String: Double]

    /// Creates a heat map from pairs `(first, second, cosine)`.
    public init(title: String, identifier: String, tasks: [String],
                pairs: [(first: String, second: String, cosine: Double)]) {
        self.title = title
        self.identifier = identifier
        self.tasks = tasks
        var cosines: [String: Double] = [:]
        for pair in pairs {
            cosines["\(pair.first)\u{0}\(pair.second)"] = pair.cosine
            cosines["\(pair.second)\u{0}\(pair.first)"] = pair.cosine
        }
        self.cosines = cosines
    }

    /// The `<svg>` element.
    public var svg: String {
        let cell = 52.0, labelWidth = min(140.0, 14 + 7 * Double(tasks.map(\.count).max() ?? 4)), top = 46.0
        let width = labelWidth + cell * Double(tasks.count) + 12, height = top + cell * Double(tasks.count) + 12
        var out = "<svg class=\"chart heatmap\" data-chart=\"\(html(identifier))\" xmlns=\"http://www.w3.org/2000/svg\" "
            + "width=\"\(Int(max(width, 260)))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(html(title))\">"
            + "<text class=\"title\" x=\"4\" y=\"18\">\(html(title))</text>"
        for (j, task) in tasks.enumerated() {
            out += "<text class=\"tick\" x=\"\(coordinate(labelWidth + cell * (Double(j) + 0.5)))\" y=\"\(top - 8)\" "
                + "text-anchor=\"middle\">\(html(String(task.prefix(8))))</text>"
        }
        for (i, row) in tasks.enumerated() {
            let y = top + cell * Double(i)
            out += "<text class=\"tick\" x=\"\(labelWidth - 6)\" y=\"\(coordinate(y + cell / 2))\" text-anchor=\"end\" "
                + "dy=\"0.32em\">\(html(String(row.prefix(18))))</text>"
            for (j, column) in tasks.enumerated() {
                let x = labelWidth + cell * Double(j)
                let value = i == j ? 1.0 : cosines["\(row)\u{0}\(column)"]
                out += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 2)\" height=\"\(cell - 2)\" "
                    + "fill=\"\(value.map(Self.colour) ?? "#eeeeee")\"><title>\(html(row)) · \(html(column)): "
                    + "\(value.map { SVGLineChart.label($0) } ?? "not measured")</title></rect>"
                if let value {
                    out += "<text class=\"cell\" x=\"\(coordinate(x + cell / 2 - 1))\" y=\"\(coordinate(y + cell / 2 - 1))\" "
                        + "text-anchor=\"middle\" dy=\"0.32em\">\(value.isFinite ? String(format: "%+.2f", value) : "nan")</text>"
                }
            }
        }
        return out + "</svg>"
    }

    /// −1 → red, 0 → white, +1 → blue (NaN: grey).
    static func colour(_ cosine: Double) -> String {
        guard cosine.isFinite else { return "#cccccc" }
        let t = min(max(cosine, -1), 1)
        let (r, g, b): (Double, Double, Double) = t < 0
            ? (255, 255 + t * 180, 255 + t * 180)
            : (255 - t * 200, 255 - t * 130, 255)
        return String(format: "#%02x%02x%02x", Int(r), Int(g), Int(b))
    }
}
