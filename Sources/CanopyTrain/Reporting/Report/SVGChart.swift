import Foundation

/// A line chart over epochs drawn as an inline SVG element: axes with rounded ticks, one polyline per series (a
/// NaN breaks it), a dot on every point (so a one-epoch run still shows), and a legend under the plot.
public struct SVGLineChart {
    /// One line of the chart.
    public struct Series {
        /// The legend's text.
        public var name: String
        /// A CSS colour.
        public var colour: String
        /// Draws the line dashed (validation against training, for example).
        public var dashed: Bool
        /// (epoch, value) points; NaN and infinite values are not drawn.
        public var points: [(epoch: Int, value: Double)]

        /// Creates a series.
        public init(name: String, colour: String, dashed: Bool = false, points: [(epoch: Int, value: Double)]) {
            self.name = name
            self.colour = colour
            self.dashed = dashed
            self.points = points
        }
    }

    /// The title above the plot.
    public var title: String
    /// The `data-chart` attribute, which tests and scripts use to find the chart.
    public var identifier: String
    /// The lines.
    public var series: [Series]
    /// Fixes the value axis (gradient cosines: -1…1); nil fits the data.
    public var fixedRange: ClosedRange<Double>?

    /// Creates a chart.
    public init(title: String, identifier: String, series: [Series], fixedRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.identifier = identifier
        self.series = series
        self.fixedRange = fixedRange
    }

    static let width = 420.0, plotHeight = 210.0
    static let left = 56.0, right = 12.0, top = 28.0, bottom = 34.0

    /// The `<svg>` element.
    public var svg: String {
        let finite = series.flatMap { $0.points }.filter { $0.value.isFinite }
        let epochs = series.flatMap { $0.points.map(\.epoch) }
        let firstEpoch = epochs.min() ?? 1, lastEpoch = max(epochs.max() ?? 1, firstEpoch + 1)
        var low = fixedRange?.lowerBound ?? finite.map(\.value).min() ?? 0
        var high = fixedRange?.upperBound ?? finite.map(\.value).max() ?? 1
        if high - low < 1e-12 {
            let margin = low == 0 ? 0.5 : abs(low) * 0.1
            low -= margin; high += margin
        }
        let ticks = Self.ticks(low, high)
        low = min(low, ticks.first ?? low); high = max(high, ticks.last ?? high)
        let legendRows = (series.count + 2) / 3
        let height = Self.top + Self.plotHeight + Self.bottom + Double(legendRows) * 16 + 4
        let plotWidth = Self.width - Self.left - Self.right
        func x(_ epoch: Int) -> Double { Self.left + plotWidth * Double(epoch - firstEpoch) / Double(lastEpoch - firstEpoch) }
        func y(_ value: Double) -> Double { Self.top + Self.plotHeight * (1 - (value - low) / (high - low)) }

        var out = "<svg class=\"chart\" data-chart=\"\(html(identifier))\" xmlns=\"http://www.w3.org/2000/svg\" "
            + "width=\"\(Int(Self.width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(Self.width)) \(Int(height))\" "
            + "role=\"img\" aria-label=\"\(html(title))\">"
        out += "<text class=\"title\" x=\"\(Self.left)\" y=\"18\">\(html(title))</text>"
        for tick in ticks {
            let ty = coordinate(y(tick))
            out += "<line class=\"grid\" x1=\"\(Self.left)\" x2=\"\(Self.width - Self.right)\" y1=\"\(ty)\" y2=\"\(ty)\"/>"
            out += "<text class=\"tick\" x=\"\(Self.left - 6)\" y=\"\(ty)\" text-anchor=\"end\" dy=\"0.32em\">"
                + "\(Self.label(tick))</text>"
        }
        for epoch in Self.epochTicks(firstEpoch, lastEpoch) {
            out += "<text class=\"tick\" x=\"\(coordinate(x(epoch)))\" y=\"\(Self.top + Self.plotHeight + 14)\" "
                + "text-anchor=\"middle\">\(epoch)</text>"
        }
        out += "<text class=\"axis\" x=\"\(Self.left + plotWidth / 2)\" y=\"\(Self.top + Self.plotHeight + 28)\" "
            + "text-anchor=\"middle\">epoch</text>"
        out += "<rect class=\"frame\" x=\"\(Self.left)\" y=\"\(Self.top)\" width=\"\(plotWidth)\" height=\"\(Self.plotHeight)\"/>"
        for line in series {
            let dash = line.dashed ? " stroke-dasharray=\"5 3\"" : ""
            for run in Self.runs(line.points) where run.count > 1 {
                let points = run.map { "\(coordinate(x($0.epoch))),\(coordinate(y($0.value)))" }.joined(separator: " ")
                out += "<polyline class=\"line\" points=\"\(points)\" stroke=\"\(line.colour)\"\(dash)/>"
            }
            for point in line.points where point.value.isFinite {
                out += "<circle cx=\"\(coordinate(x(point.epoch)))\" cy=\"\(coordinate(y(point.value)))\" r=\"2.2\" fill=\"\(line.colour)\">"
                    + "<title>\(html(line.name)) epoch \(point.epoch): \(Self.label(point.value, digits: 5))</title></circle>"
            }
        }
        if finite.isEmpty {
            out += "<text class=\"axis\" x=\"\(Self.left + plotWidth / 2)\" y=\"\(Self.top + Self.plotHeight / 2)\" "
                + "text-anchor=\"middle\">no finite values</text>"
        }
        for (i, line) in series.enumerated() {
            let lx = Self.left + Double(i % 3) * 122, ly = Self.top + Self.plotHeight + Self.bottom + Double(i / 3) * 16 + 8
            let dash = line.dashed ? " stroke-dasharray=\"5 3\"" : ""
            out += "<line x1=\"\(lx)\" x2=\"\(lx + 18)\" y1=\"\(ly)\" y2=\"\(ly)\" stroke=\"\(line.colour)\" "
                + "stroke-width=\"2\"\(dash)/><text class=\"legend\" x=\"\(lx + 22)\" y=\"\(ly)\" dy=\"0.32em\">"
                + "\(html(String(line.name.prefix(18))))</text>"
        }
        return out + "</svg>"
    }

    /// Consecutive finite points: a NaN or a gap ends a run.
    static func runs(_ points: [(epoch: Int, value: Double)]) -> [[(epoch: Int, value: Double)]] {
        var runs: [[(epoch: Int, value: Double)]] = [[]]
        for point in points {
            if point.value.isFinite { runs[runs.count - 1].append(point) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
        }
        return runs
    }

    /// The first epoch, then multiples of a round step (1, 2, 5, 10, 20, 50…) up to the last: at most ~8 labels.
    static func epochTicks(_ first: Int, _ last: Int) -> [Int] {
        let span = max(last - first, 1)
        var step = 1
        for candidate in [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] where span / candidate <= 8 {
            step = candidate
            break
        }
        if span / step > 8 { step = span / 8 }
        let multiples = stride(from: (first / step + 1) * step, through: last, by: step)
            .filter { $0 - first >= max(step / 2, 1) }
        return [first] + multiples
    }

    /// About five round tick values covering `low…high` (steps of 1, 2 or 5 times a power of ten).
    static func ticks(_ low: Double, _ high: Double) -> [Double] {
        guard low.isFinite, high.isFinite, high > low else { return [] }
        let raw = (high - low) / 5, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        let first = floor(low / step) * step
        return stride(from: first, through: high + step * 0.999, by: step).map { ($0 / step).rounded() * step }
    }

    /// A number in at most `digits` significant digits, without trailing zeros.
    static func label(_ value: Double, digits: Int = 4) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        if value == 0 { return "0" }
        if abs(value) >= 1e5 || abs(value) < 1e-3 { return String(format: "%.\(digits - 1)g", value) }
        var text = String(format: "%.\(digits)g", value)
        if text.contains("."), !text.contains("e") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}

/// A coordinate with one decimal.
func coordinate(_ value: Double) -> String { String(format: "%.1f", value) }

/// Text escaped for HTML and SVG content and attribute values.
func html(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}
