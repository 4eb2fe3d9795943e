import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress bar for a terminal, redrawn in place:
/// `epoch 3/30 [#######.......] 12/23 batches  loss 0.4123`.
///
/// - Draws only when standard output is a terminal; otherwise ``update(epoch:of:batch:of:loss:)`` prints nothing
///   (logs and pipes get the per-epoch lines instead, which are not this type's job).
/// - Redraws at most about ten times a second (and always for the last batch of an epoch), so a fast loop
///   spends no time printing.
/// - Never writes a line as wide as the terminal (so it cannot wrap and break the `\r` redraw): the bar shrinks,
///   then disappears, then the text is cut.
/// - Call ``clear()`` before printing anything else on the line.
public struct ProgressBar {
    /// Whether anything is drawn at all.
    public let isEnabled: Bool
    /// The terminal width in columns.
    public let width: Int
    /// The shortest time between two redraws, in seconds.
    public var minimumInterval: Double = 0.1
    private let clock: () -> Double
    private let output: (String) -> Void
    private var lastDraw: Double?
    private var visible = false

    /// A progress bar on standard output, enabled when it is a terminal (`isatty(1)`).
    ///
    /// The width is the terminal's (`TIOCGWINSZ`), else `$COLUMNS`, else 80.
    public init() {
        self.init(isTerminal: isatty(1) != 0, width: terminalWidth(), clock: monotonicSeconds, output: { text in
            print(text, terminator: "")
            fflush(nil)
        })
    }

    /// A progress bar with an explicit terminal test, width, clock (seconds) and output, for tests and embedders.
    public init(isTerminal: Bool, width: Int, clock: @escaping () -> Double, output: @escaping (String) -> Void) {
        isEnabled = isTerminal
        self.width = max(width, 1)
        self.clock = clock
        self.output = output
    }

    /// Shows the progress after `batch` of `batchCount` batches (1-based) in epoch `epoch` of `epochs`.
    public mutating func update(epoch: Int, of epochs: Int, batch: Int, of batchCount: Int, loss: Double) {
        guard isEnabled else { return }
        let now = clock()
        if let lastDraw, batch < batchCount, now - lastDraw < minimumInterval { return }
        lastDraw = now
        visible = true
        output("\r" + Self.render(epoch: epoch, of: epochs, batch: batch, of: batchCount, loss: loss, width: width)
               + "\u{1B}[K")
    }

    /// Erases the bar, leaving the cursor at the start of the empty line.
    public mutating func clear() {
        guard isEnabled, visible else { return }
        output("\r\u{1B}[K")
        visible = false
        lastDraw = nil
    }

    /// The text of the bar, at most `width − 1` characters.
    ///
    /// The bar takes up to 30 columns of what is left after the words; below 5 columns it is left out.
    public static func render(epoch: Int, of epochs: Int, batch: Int, of batchCount: Int, loss: Double,
                              width: Int) -> String {
        let limit = max(width - 1, 0)
        let lossText = loss.isFinite ? String(format: "%.4f", loss) : "\(loss)"
        let head = "epoch \(epoch)/\(epochs) "
        let tail = "\(batch)/\(batchCount) batches  loss \(lossText)"
        let barWidth = min(30, limit - head.count - tail.count - 3)
        var line: String
        if barWidth >= 5 {
            let fraction = batchCount > 0 ? min(max(Double(batch) / Double(batchCount), 0), 1) : 1
            let filled = Int((fraction * Double(barWidth)).rounded(.down))
            line = head + "[" + String(repeating: "#", count: filled)
                + String(repeating: ".", count: barWidth - filled) + "] " + tail
        } else {
            line = head + tail
        }
        if line.count > limit { line = String(line.prefix(limit)) }
        return line
    }
}

/// The width of the terminal on standard output, or `$COLUMNS`, or 80.
private func terminalWidth() -> Int {
    var size = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
    return 80
}

/// Seconds from a monotonic clock.
private func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
